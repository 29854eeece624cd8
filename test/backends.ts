// Runs one conformance suite against each database backend: a fresh SQLite file, and a fresh database on
// a real PostgreSQL server started for the test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe } from 'vitest';
import { PostgresDatabase } from '../database/postgres.ts';
import type { Database } from '../database/sql.ts';
import { SqliteDatabase } from '../database/sqlite.ts';
import { startPostgresAroundTests, type PostgresServer } from './postgres.ts';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new, empty database; closed after the test. */
  fresh(): Promise<Database>;
  /** Another connection to the database `fresh()` returned last (a second process's view). */
  again(): Promise<Database>;
}

/** Calls `suite` inside a describe block per backend. */
export function eachBackend(title: string, suite: (backend: Backend) => void): void {
  describe(`${title} (sqlite)`, () => {
    const open: Database[] = [];
    const dirs: string[] = [];
    let last = '';
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    suite({
      name: 'sqlite',
      async fresh() {
        const dir = mkdtempSync(path.join(tmpdir(), 'anju-sqlite-'));
        dirs.push(dir);
        last = path.join(dir, 'test.db');
        const db = SqliteDatabase.open(last);
        open.push(db);
        return db;
      },
      async again() {
        const db = SqliteDatabase.open(last);
        open.push(db);
        return db;
      },
    });
  });

  describe(`${title} (postgres)`, () => {
    let server: PostgresServer;
    const open: Database[] = [];
    let last = '';
    startPostgresAroundTests((started) => (server = started));
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });
    suite({
      name: 'postgres',
      async fresh() {
        last = await server.createDatabase();
        const db = new PostgresDatabase(last);
        open.push(db);
        return db;
      },
      async again() {
        const db = new PostgresDatabase(last);
        open.push(db);
        return db;
      },
    });
  });
}
