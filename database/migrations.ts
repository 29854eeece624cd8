// Versioned schema migrations, one append-only list per owner (the registry, accounts, alerts, ...), on
// either backend. Applied versions are kept in `schema_migrations`; a migration is never edited once
// released, a new one is appended. Each owner's migrations run in one transaction under a lock, so two
// processes starting at once on a fresh database do not both migrate.
import type { Database, Dialect, Sql } from './sql.ts';

export interface Migration {
  version: number;
  name: string;
  /** The same SQL for both backends... */
  sql?: string;
  /** ...or each its own. */
  sqlite?: string;
  postgres?: string;
}

export interface SchemaOwner {
  /** The folder that owns these tables, e.g. `registry`. */
  owner: string;
  migrations: readonly Migration[];
}

/**
 * SQLite files made before owners had their own lists kept one version in PRAGMA user_version. Such a
 * file is first brought to the end of its old list (`upgrade`), then each owner is recorded at the
 * version that matches it: a number, or `'user_version'` when the owner's list continues the old one.
 */
export interface LegacyFile {
  upgrade?: readonly Migration[];
  owners: Record<string, number | 'user_version'>;
}

export interface AppliedMigration {
  owner: string;
  version: number;
  name: string;
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly owner: string,
    readonly found: number,
    readonly latest: number,
  ) {
    super(
      `${owner}: the database is at schema version ${found}, newer than this Anju knows (${latest}); ` +
        'run a newer Anju or restore a matching backup',
    );
    this.name = 'SchemaTooNewError';
  }
}

const TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  owner TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (owner, version)
)`;

function sqlFor(migration: Migration, dialect: Dialect): string {
  const sql = migration[dialect] ?? migration.sql;
  if (sql === undefined) throw new Error(`migration "${migration.name}" has no SQL for ${dialect}`);
  return sql;
}

function checkNumbering(owner: SchemaOwner): void {
  owner.migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`${owner.owner}: migration "${m.name}" has version ${m.version}, expected ${i + 1}`);
  });
}

/** Serialises migrating processes: SQLite's BEGIN IMMEDIATE already does; PostgreSQL takes a lock. */
async function lock(tx: Sql): Promise<void> {
  if (tx.dialect === 'postgres') await tx.run("SELECT pg_advisory_xact_lock(hashtext('anju:migrations'))");
}

async function currentVersion(tx: Sql, owner: string): Promise<number> {
  const row = await tx.one<{ v: number | null }>(
    'SELECT max(version) AS v FROM schema_migrations WHERE owner = ?',
    [owner],
  );
  return row?.v ?? 0;
}

async function adoptLegacyFile(db: Database, legacy: LegacyFile, now: number): Promise<void> {
  if (db.dialect !== 'sqlite') return;
  await db.transaction(async (tx) => {
    const known = await tx.one<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
    if ((known?.n ?? 0) > 0) return;
    let version = (await tx.one<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
    if (version === 0) return; // a new file: owners migrate from the start
    const upgrade = legacy.upgrade ?? [];
    if (upgrade.length > 0 && version > upgrade.length)
      throw new SchemaTooNewError('legacy file', version, upgrade.length);
    for (const migration of upgrade.slice(version)) {
      await tx.exec(sqlFor(migration, 'sqlite'));
      version = migration.version;
    }
    await tx.exec(`PRAGMA user_version = ${version}`);
    for (const [owner, at] of Object.entries(legacy.owners)) {
      const upTo = at === 'user_version' ? version : at;
      for (let v = 1; v <= upTo; v++)
        await tx.run('INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES (?, ?, ?, ?)', [
          owner,
          v,
          'adopted from the file made before per-owner migrations',
          now,
        ]);
    }
  });
}

/**
 * Brings each owner's tables to its latest version, in the order given (an owner whose tables refer to
 * another's comes after it). Returns what was applied; refuses a database newer than this code.
 */
export async function migrate(
  db: Database,
  owners: readonly SchemaOwner[],
  options: { legacy?: LegacyFile; now?: () => number } = {},
): Promise<AppliedMigration[]> {
  owners.forEach(checkNumbering);
  const now = options.now ?? Date.now;
  await db.transaction(async (tx) => {
    await lock(tx); // CREATE TABLE IF NOT EXISTS races between two PostgreSQL sessions
    await tx.exec(TABLE);
  });
  if (options.legacy) await adoptLegacyFile(db, options.legacy, now());
  const applied: AppliedMigration[] = [];
  for (const owner of owners) {
    // One transaction per migration: a failing one leaves the owner at the version before it.
    for (const migration of owner.migrations) {
      const done = await db.transaction(async (tx) => {
        await lock(tx);
        const found = await currentVersion(tx, owner.owner);
        if (found > owner.migrations.length)
          throw new SchemaTooNewError(owner.owner, found, owner.migrations.length);
        if (found >= migration.version) return false;
        await tx.exec(sqlFor(migration, tx.dialect));
        await tx.run('INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES (?, ?, ?, ?)', [
          owner.owner,
          migration.version,
          migration.name,
          now(),
        ]);
        return true;
      });
      if (done) applied.push({ owner: owner.owner, version: migration.version, name: migration.name });
    }
  }
  return applied;
}

export interface OwnerStatus {
  owner: string;
  version: number;
  latest: number;
}

/** Each owner's applied and latest version, without changing anything. */
export async function migrationStatus(db: Database, owners: readonly SchemaOwner[]): Promise<OwnerStatus[]> {
  const exists =
    db.dialect === 'sqlite'
      ? await db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      : await db.one(
          "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
        );
  const result: OwnerStatus[] = [];
  for (const { owner, migrations } of owners)
    result.push({ owner, version: exists ? await currentVersion(db, owner) : 0, latest: migrations.length });
  return result;
}
