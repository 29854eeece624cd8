// A registry and the SQLite connection of its file, for tests of stores that are still synchronous
// (accounts, sessions: issue 11 moves them onto the asynchronous Database; then this goes).
import { openRegistryDatabases } from '../cli/databases.ts';
import type { SqliteDatabase } from '../database/sqlite.ts';
import { Registry } from '../registry/index.ts';

export async function openRegistryFile(dataDir: string) {
  const dbs = await openRegistryDatabases({ dataDir });
  const registry = new Registry(dbs.registry, { flushEveryMs: 0, onClose: () => dbs.close() });
  return { registry, database: (dbs.registry as SqliteDatabase).connection };
}
