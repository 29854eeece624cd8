// The embedded backend: one SQLite file through better-sqlite3. Calls run synchronously underneath; the
// asynchronous interface only orders them, so that nothing runs inside another caller's open transaction.
import type { Database as Connection, Statement } from 'better-sqlite3';
import type { Database, Param, RunResult, Sql } from './sql.ts';
import { openSqliteFile } from './sqlite-file.ts';

export interface SqliteOptions {
  /** How long a write waits for another process's lock; SQLite blocks the event loop meanwhile. */
  busyTimeoutMs?: number;
}

export { DEFAULT_BUSY_TIMEOUT_MS } from './sqlite-file.ts';
const STATEMENT_CACHE = 500;

export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Statement>();
  /** The transaction under way and the ones queued behind it; calls outside them wait for all. */
  private tail: Promise<void> = Promise.resolve();
  private active = false;
  private readonly inside: Sql;

  private constructor(
    private readonly db: Connection,
    readonly location: string,
  ) {
    this.inside = {
      dialect: 'sqlite',
      all: async <T>(text: string, params?: readonly Param[]) => this.allNow(text, params) as T[],
      one: async (text, params) => this.allNow(text, params)[0] as never,
      run: async (text, params) => this.runNow(text, params),
      exec: async (script) => void this.db.exec(script),
      transaction: (fn) => fn(this.inside),
    };
  }

  /** Opens (creating where missing) the file in WAL mode with foreign keys on. */
  static open(file: string, options: SqliteOptions = {}): SqliteDatabase {
    return new SqliteDatabase(openSqliteFile(file, { ...options, foreignKeys: true }), file);
  }

  /** The underlying connection, for what only SQLite has (online backup, pragmas). */
  get connection(): Connection {
    return this.db;
  }

  async all<T>(text: string, params?: readonly Param[]): Promise<T[]> {
    await this.outside();
    return this.allNow(text, params) as T[];
  }

  async one<T>(text: string, params?: readonly Param[]): Promise<T | undefined> {
    await this.outside();
    return this.allNow(text, params)[0] as T | undefined;
  }

  async run(text: string, params?: readonly Param[]): Promise<RunResult> {
    await this.outside();
    return this.runNow(text, params);
  }

  async exec(script: string): Promise<void> {
    await this.outside();
    this.db.exec(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const before = this.tail;
    let done!: () => void;
    this.tail = new Promise<void>((resolve) => (done = resolve));
    await before;
    this.active = true;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inside);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.active = false;
      done();
    }
  }

  async close(): Promise<void> {
    while (this.active) await this.tail;
    if (this.db.open) this.db.close();
  }

  /** Waits until no transaction is open, so that a statement from outside never joins one. */
  private async outside(): Promise<void> {
    while (this.active) await this.tail;
  }

  private statement(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      this.statements.set(text, statement);
    }
    return statement;
  }

  private allNow(text: string, params: readonly Param[] = []): unknown[] {
    const statement = this.statement(text);
    if (!statement.reader) {
      statement.run(...params);
      return [];
    }
    return statement.all(...params);
  }

  private runNow(text: string, params: readonly Param[] = []): RunResult {
    const statement = this.statement(text);
    if (statement.reader) return { changes: statement.all(...params).length };
    return { changes: statement.run(...params).changes };
  }
}
