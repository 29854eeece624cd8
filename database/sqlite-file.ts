// How every SQLite file of Anju is opened: created where missing, in WAL mode (a reader never waits for
// the writer), waiting for a lock rather than failing, with its schema applied; closed again if any of
// that fails. The shared stores use it through SqliteDatabase; the journal, the readings store and the
// rule state, whose hot paths are synchronous, use the connection directly.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database as Connection } from 'better-sqlite3';

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface SqliteFileOptions {
  /** NORMAL where another copy is durable (the journal holds every reading); SQLite's FULL otherwise. */
  synchronous?: 'NORMAL' | 'FULL';
  foreignKeys?: boolean;
  busyTimeoutMs?: number;
  /** Statements that create what is missing (CREATE ... IF NOT EXISTS), run on every open. */
  schema?: string;
}

export function openSqliteFile(file: string, options: SqliteFileOptions = {}): Connection {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma('journal_mode = WAL');
    if (options.synchronous) db.pragma(`synchronous = ${options.synchronous}`);
    if (options.foreignKeys) db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)}`);
    if (options.schema) db.exec(options.schema);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
