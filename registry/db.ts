// Opens the registry database: one SQLite file in the data directory, shared by the server and the CLI.
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { RegistryError } from './errors.ts';
import { LEGACY_MIGRATIONS } from './legacy-migrations.ts';
import { applyMigrations } from './sqlite-migrations.ts';

export const REGISTRY_FILE = 'registry.db';

export interface OpenDbOptions {
  /** Refuse instead of creating an empty registry (for read-only commands given a wrong --data-dir). */
  mustExist?: boolean;
  /** How long a write waits for another connection's lock before failing (SQLite blocks the thread). */
  busyTimeoutMs?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export function registryPath(dataDir: string): string {
  return path.join(dataDir, REGISTRY_FILE);
}

export function openRegistryDb(dataDir: string, options: OpenDbOptions = {}): SqliteDatabase {
  const file = registryPath(dataDir);
  if (!existsSync(file)) {
    if (options.mustExist)
      throw new RegistryError('no_registry', `no registry at ${file} (check --data-dir)`);
    mkdirSync(dataDir, { recursive: true });
  }
  const db = new Database(file);
  try {
    // WAL lets the CLI write while the server reads; busy_timeout makes the two wait for each other
    // instead of failing with SQLITE_BUSY.
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
    applyMigrations(db, LEGACY_MIGRATIONS, (found, latest) =>
      new RegistryError('schema_too_new', `registry schema version ${found} is newer than this Anju knows (${latest}); upgrade Anju`),
    );
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
