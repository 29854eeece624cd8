// One small asynchronous SQL interface over SQLite (the embedded default) and PostgreSQL (the shared
// database), so that each store is written once and tested against both. Queries use `?` placeholders;
// the PostgreSQL driver numbers them. Integers (Unix ms times included) come back as numbers from both.

export type Dialect = 'sqlite' | 'postgres';
export type Param = string | number | null;

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  all<T>(text: string, params?: readonly Param[]): Promise<T[]>;
  one<T>(text: string, params?: readonly Param[]): Promise<T | undefined>;
  run(text: string, params?: readonly Param[]): Promise<RunResult>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Inside, use
   * only `tx`. SQLite takes the write lock at the start (BEGIN IMMEDIATE); PostgreSQL runs READ COMMITTED,
   * so a store that must not race takes a row lock (SELECT ... FOR UPDATE) or relies on a constraint.
   * A nested call joins the outer transaction.
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

export interface Database extends Sql {
  /** Where the data is, without credentials: a file path or `postgres://host:port/db`. */
  readonly location: string;
  close(): Promise<void>;
}

/** Rewrites `?` placeholders as `$1, $2, ...`, leaving quoted strings and identifiers alone. */
export function numberPlaceholders(text: string): string {
  let out = '';
  let n = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** A UNIQUE or PRIMARY KEY constraint refused the write. */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A FOREIGN KEY constraint refused the write. */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** A CHECK constraint or a trigger refused the write. */
export function isCheckViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === '23514' || code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_TRIGGER';
}

/**
 * `column` contains `text`, ignoring case, the same on both backends: the text's % and _ are escaped,
 * and both sides go through the database's own lower(). Pass `containsPattern(text)` as its parameter.
 */
export function containsSql(column: string): string {
  return `lower(${column}) LIKE lower(?) ESCAPE '\\'`;
}

/** The LIKE pattern for containsSql: `text` anywhere, its \, % and _ taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}
