// Opens `<dataDir>/alerts.db`: alert records, their audit trail and escalation state in one SQLite file.
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ALERTS_FILE, applyMigrations } from './migrations.ts';

export function alertsPath(dataDir: string): string {
  return path.join(dataDir, ALERTS_FILE);
}

export function openAlertsDb(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(alertsPath(dataDir));
  try {
    // WAL lets the dashboard read while alerting writes; busy_timeout makes writers wait, not fail.
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
