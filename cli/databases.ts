// Where Anju keeps its shared state, chosen once for the whole process: SQLite files in the data
// directory (the embedded default, nothing to install) or one PostgreSQL database (`--database
// postgres://...` or ANJU_DATABASE_URL) that several Anju processes share. Each owner's tables are
// migrated here, in dependency order, before any store uses them.
import path from 'node:path';
import { ALERTS_SCHEMA, LEGACY_ALERTS_FILE } from '../alerting/alerts/migrations.ts';
import { RESIDENT_RULES_SCHEMA } from '../alerting/resident-rules/migrations.ts';
import { ACCOUNTS_SCHEMA } from '../dashboard/accounts/migrations.ts';
import {
  migrate,
  migrationStatus,
  type AppliedMigration,
  type OwnerStatus,
  type SchemaOwner,
} from '../database/migrations.ts';
import { PostgresDatabase } from '../database/postgres.ts';
import type { Database } from '../database/sql.ts';
import { SqliteDatabase } from '../database/sqlite.ts';
import { LEGACY_REGISTRY_FILE, REGISTRY_SCHEMA } from '../registry/migrations.ts';

export const REGISTRY_FILE = 'registry.db';
export const ALERTS_FILE = 'alerts.db';

/** Owners of the registry's database, in the order their foreign keys need. */
export const REGISTRY_OWNERS: readonly SchemaOwner[] = [
  REGISTRY_SCHEMA,
  ACCOUNTS_SCHEMA,
  RESIDENT_RULES_SCHEMA,
];
export const ALERTS_OWNERS: readonly SchemaOwner[] = [ALERTS_SCHEMA];

export interface DatabaseOptions {
  dataDir: string;
  /** postgres://... ; undefined keeps the SQLite files in dataDir. */
  url?: string;
  busyTimeoutMs?: number;
  /** Apply pending migrations (the default); false only checks (read-only commands). */
  migrate?: boolean;
}

/**
 * The two handles stores are given. With SQLite they are two files (alerts are written far more often
 * than the registry); with PostgreSQL both are the same pool.
 */
export interface Databases {
  registry: Database;
  alerts: Database;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** Opens the databases without migrating them. */
export function connectDatabases(options: DatabaseOptions): Databases {
  if (options.url !== undefined) {
    if (!isPostgresUrl(options.url))
      throw new Error(`--database must be a postgres:// URL (got "${options.url.slice(0, 40)}")`);
    const db = new PostgresDatabase(options.url);
    return { registry: db, alerts: db, kind: 'postgres', close: () => db.close() };
  }
  const registry = SqliteDatabase.open(path.join(options.dataDir, REGISTRY_FILE), options);
  const alerts = SqliteDatabase.open(path.join(options.dataDir, ALERTS_FILE), options);
  return {
    registry,
    alerts,
    kind: 'sqlite',
    async close() {
      await registry.close();
      await alerts.close();
    },
  };
}

/**
 * Opens the databases and migrates only the registry's owners. The alerts service still opens and
 * migrates alerts.db itself (PRAGMA user_version) until it runs on `dbs.alerts` (issue 11, helper C);
 * migrating that file here first would make it refuse the file. At that merge, callers use openDatabases.
 */
export async function openRegistryDatabases(options: DatabaseOptions): Promise<Databases> {
  const dbs = connectDatabases(options);
  try {
    await migrate(dbs.registry, REGISTRY_OWNERS, { legacy: LEGACY_REGISTRY_FILE });
    return dbs;
  } catch (err) {
    await dbs.close();
    throw err;
  }
}

/** Brings every owner's tables to the latest version; returns what was applied. */
export async function migrateDatabases(dbs: Databases): Promise<AppliedMigration[]> {
  const applied = await migrate(dbs.registry, REGISTRY_OWNERS, { legacy: LEGACY_REGISTRY_FILE });
  applied.push(...(await migrate(dbs.alerts, ALERTS_OWNERS, { legacy: LEGACY_ALERTS_FILE })));
  return applied;
}

export async function databaseStatus(dbs: Databases): Promise<OwnerStatus[]> {
  return [
    ...(await migrationStatus(dbs.registry, REGISTRY_OWNERS)),
    ...(await migrationStatus(dbs.alerts, ALERTS_OWNERS)),
  ];
}

/** Opens and migrates: what `anju serve` and the CLI commands use. */
export async function openDatabases(options: DatabaseOptions): Promise<Databases> {
  const dbs = connectDatabases(options);
  try {
    if (options.migrate !== false) await migrateDatabases(dbs);
    return dbs;
  } catch (err) {
    await dbs.close();
    throw err;
  }
}
