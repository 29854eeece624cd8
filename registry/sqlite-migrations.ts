// Versioned migrations for any of Anju's SQLite files (registry, alerts): an append-only list, the applied
// version kept in PRAGMA user_version.
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the migrations newer than the database, each in its own IMMEDIATE transaction (so two
 * processes opening a fresh file at once do not both migrate). A failing migration leaves the database at
 * the previous version. A database newer than this code is refused with `tooNew`'s error rather than
 * guessed at.
 */
export function applyMigrations(
  db: Database,
  migrations: readonly Migration[],
  tooNew: (found: number, latest: number) => Error,
): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration "${m.name}" has version ${m.version}, expected ${i + 1}`);
  });
  const found = schemaVersion(db);
  if (found > migrations.length) throw tooNew(found, migrations.length);
  const applied: number[] = [];
  for (const migration of migrations) {
    const step = db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return false;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
      return true;
    });
    if (step.immediate()) applied.push(migration.version);
  }
  return applied;
}
