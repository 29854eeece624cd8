// Copies a community's data from its SQLite files into a PostgreSQL database that has the same schema
// (both migrated to the same versions), table by table in foreign-key order, and checks the copy by counts
// and a sample of rows. For `anju migrate --from-sqlite DIR --to postgres://...`.
import type { PostgresDatabase } from './postgres.ts';
import type { Param } from './sql.ts';
import type { SqliteDatabase } from './sqlite.ts';

const BATCH = 500;
const SAMPLE = 25;

export interface TableCopy {
  table: string;
  rows: number;
  /** Rows compared field by field between source and target. */
  sampled: number;
}

export type CopyProgress = (event: { table: string; copied: number; total: number }) => void;

export class CopyError extends Error {
  override name = 'CopyError';
}

interface ColumnInfo {
  name: string;
  pk: number;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

async function tablesOf(source: SqliteDatabase): Promise<string[]> {
  const rows = await source.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
  );
  return rows.map((r) => r.name);
}

/** Tables ordered so that every table comes after those its foreign keys refer to. */
async function inForeignKeyOrder(source: SqliteDatabase, tables: string[]): Promise<string[]> {
  const refers = new Map<string, Set<string>>();
  for (const table of tables) {
    const keys = await source.all<{ table: string }>(`SELECT "table" FROM pragma_foreign_key_list(?)`, [
      table,
    ]);
    refers.set(table, new Set(keys.map((k) => k.table).filter((t) => t !== table)));
  }
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = tables.filter(
      (t) => !placed.has(t) && [...refers.get(t)!].every((r) => placed.has(r) || !refers.has(r)),
    );
    if (ready.length === 0)
      throw new CopyError(`foreign keys form a cycle among ${tables.filter((t) => !placed.has(t))}`);
    for (const t of ready) {
      ordered.push(t);
      placed.add(t);
    }
  }
  return ordered;
}

async function targetColumns(target: PostgresDatabase, table: string) {
  return target.all<{ column_name: string; is_identity: string }>(
    `SELECT column_name, is_identity FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
}

/** Refuses a target that already holds data: a copy never merges two communities by accident. */
async function assertEmpty(
  target: PostgresDatabase,
  tables: string[],
  seeded: ReadonlySet<string>,
): Promise<void> {
  for (const table of tables) {
    if (seeded.has(table)) continue;
    const row = await target.one<{ n: number }>(`SELECT count(*) AS n FROM ${quote(table)}`);
    if ((row?.n ?? 0) > 0)
      throw new CopyError(`the target already has rows in ${table}: copy only into a new, empty database`);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  return String(a) === String(b);
}

/**
 * Copies every table of each source file. Identity ids are kept (OVERRIDING SYSTEM VALUE) and their
 * sequences moved past the copied ids, so rows written after the move never collide with old ones.
 */
export async function copySqliteToPostgres(
  sources: readonly SqliteDatabase[],
  target: PostgresDatabase,
  progress: CopyProgress = () => {},
  /** Tables a migration fills (a change counter): the source's rows replace the target's. */
  seeded: ReadonlySet<string> = new Set(),
): Promise<TableCopy[]> {
  const plan: { source: SqliteDatabase; table: string }[] = [];
  for (const source of sources)
    for (const table of await inForeignKeyOrder(source, await tablesOf(source))) plan.push({ source, table });
  await assertEmpty(
    target,
    plan.map((p) => p.table),
    seeded,
  );
  const result: TableCopy[] = [];
  for (const { source, table } of plan)
    result.push(await copyTable(source, target, table, progress, seeded.has(table)));
  return result;
}

async function copyTable(
  source: SqliteDatabase,
  target: PostgresDatabase,
  table: string,
  progress: CopyProgress,
  replace: boolean,
): Promise<TableCopy> {
  const columns = await source.all<ColumnInfo>('SELECT name, pk FROM pragma_table_info(?)', [table]);
  const theirs = await targetColumns(target, table);
  const missing = columns.filter((c) => !theirs.some((t) => t.column_name === c.name)).map((c) => c.name);
  if (theirs.length === 0 || missing.length > 0)
    throw new CopyError(
      `${table}: the target's schema does not match (missing ${missing.join(', ') || 'the table'}); migrate both to the same Anju version`,
    );
  const names = columns.map((c) => c.name);
  const keys = columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const order = (keys.length > 0 ? keys : names).map(quote).join(', ');
  const identity = theirs.filter((t) => t.is_identity === 'YES').map((t) => t.column_name);
  const total = (await source.one<{ n: number }>(`SELECT count(*) AS n FROM ${quote(table)}`))?.n ?? 0;
  const insertHead = `INSERT INTO ${quote(table)} (${names.map(quote).join(', ')})${identity.length ? ' OVERRIDING SYSTEM VALUE' : ''} VALUES `;
  const oneRow = `(${names.map(() => '?').join(', ')})`;

  let copied = 0;
  await target.transaction(async (tx) => {
    if (replace) await tx.run(`DELETE FROM ${quote(table)}`);
    for (let offset = 0; offset < total; offset += BATCH) {
      const rows = await source.all<Record<string, Param>>(
        `SELECT * FROM ${quote(table)} ORDER BY ${order} LIMIT ? OFFSET ?`,
        [BATCH, offset],
      );
      if (rows.length === 0) break;
      const params = rows.flatMap((row) => names.map((n) => row[n] ?? null));
      await tx.run(insertHead + rows.map(() => oneRow).join(', '), params);
      copied += rows.length;
      progress({ table, copied, total });
    }
    for (const column of identity)
      await tx.run(
        `SELECT setval(pg_get_serial_sequence(?, ?), (SELECT COALESCE(max(${quote(column)}), 0) + 1 FROM ${quote(table)}), false)`,
        [table, column],
      );
  });

  const counted = (await target.one<{ n: number }>(`SELECT count(*) AS n FROM ${quote(table)}`))?.n ?? 0;
  if (counted !== total)
    throw new CopyError(`${table}: ${total} rows in the source, ${counted} in the target`);
  const sampled = await compareSample(source, target, table, names, keys);
  return { table, rows: total, sampled };
}

/** Compares a spread of rows (by primary key) field by field. */
async function compareSample(
  source: SqliteDatabase,
  target: PostgresDatabase,
  table: string,
  names: string[],
  keys: string[],
): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await source.all<Record<string, Param>>(
    `SELECT * FROM ${quote(table)} ORDER BY random() LIMIT ${SAMPLE}`,
  );
  for (const row of rows) {
    const where = keys.map((k) => `${quote(k)} = ?`).join(' AND ');
    const theirs = await target.one<Record<string, unknown>>(
      `SELECT * FROM ${quote(table)} WHERE ${where}`,
      keys.map((k) => row[k] ?? null),
    );
    const differs = !theirs ? names : names.filter((n) => !sameValue(row[n], theirs[n]));
    if (differs.length > 0)
      throw new CopyError(
        `${table}: the copy of ${keys.map((k) => row[k]).join('/')} differs in ${differs.join(', ')}`,
      );
  }
  return rows.length;
}
