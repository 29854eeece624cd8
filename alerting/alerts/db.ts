// Opens `<dataDir>/alerts.db` on its own, migrated: for tests and tools that have no `openDatabases`
// (cli/databases.ts), which is what `anju serve` uses and which also serves PostgreSQL.
import path from 'node:path';
import { migrate } from '../../database/migrations.ts';
import { SqliteDatabase } from '../../database/sqlite.ts';
import { ALERTS_SCHEMA, LEGACY_ALERTS_FILE } from './migrations.ts';

export function alertsPath(dataDir: string): string {
  return path.join(dataDir, 'alerts.db');
}

export async function openAlertsDb(dataDir: string): Promise<SqliteDatabase> {
  const db = SqliteDatabase.open(alertsPath(dataDir));
  try {
    await migrate(db, [ALERTS_SCHEMA], { legacy: LEGACY_ALERTS_FILE });
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
