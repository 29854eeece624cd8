import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistryDb, registryPath } from './db.ts';
import { RegistryError } from './errors.ts';
import { LEGACY_MIGRATIONS as MIGRATIONS } from './legacy-migrations.ts';
import { applyMigrations as applyList, schemaVersion, type Migration } from './sqlite-migrations.ts';

const applyMigrations = (db: Database.Database, migrations: readonly Migration[] = MIGRATIONS) =>
  applyList(db, migrations, (found, latest) => new RegistryError('schema_too_new', `${found} > ${latest}`));
import { useTempDirs } from './test-dir.ts';

const tempDir = useTempDirs();

function tables(db: Database.Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
}

describe('registry migrations', () => {
  it('creates every table of a fresh registry and records the schema version', () => {
    const db = openRegistryDb(tempDir());
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual(
      expect.arrayContaining([
        'communities',
        'compounds',
        'buildings',
        'homes',
        'residents',
        'devices',
        'contacts',
        'users',
      ]),
    );
    db.close();
  });

  it('opens in WAL mode with foreign keys enforced and a busy timeout', () => {
    const db = openRegistryDb(tempDir());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    expect(() =>
      db
        .prepare(
          "INSERT INTO homes (id, building_id, label, created_at) VALUES ('h', 'no-such-building', '1', 0)",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('re-opens an existing registry without re-applying anything and keeps its data', () => {
    const dir = tempDir();
    const first = openRegistryDb(dir);
    first.prepare("INSERT INTO communities (id, name, created_at) VALUES ('cm_1', '梅花社区', 1)").run();
    first.close();
    const again = openRegistryDb(dir);
    expect(applyMigrations(again)).toEqual([]);
    expect(again.prepare('SELECT name FROM communities').pluck().all()).toEqual(['梅花社区']);
    again.close();
  });

  it('applies only the migrations a database has not seen, in order', () => {
    const db = new Database(path.join(tempDir(), 'r.db'));
    const first: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' };
    const second: Migration = { version: 2, name: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT' };
    expect(applyMigrations(db, [first])).toEqual([1]);
    expect(applyMigrations(db, [first, second])).toEqual([2]);
    expect(db.prepare("SELECT name FROM pragma_table_info('a')").pluck().all()).toEqual(['x', 'y']);
    db.close();
  });

  it('leaves the database at the previous version when a migration fails half-way', () => {
    const db = new Database(path.join(tempDir(), 'r.db'));
    const broken: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE a (x INTEGER)' },
      { version: 2, name: 'broken', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);' },
    ];
    expect(() => applyMigrations(db, broken)).toThrow(/missing/);
    expect(schemaVersion(db)).toBe(1);
    expect(tables(db)).toEqual(['a']);
    db.close();
  });

  it('refuses a registry written by a newer Anju', () => {
    const dir = tempDir();
    const db = new Database(registryPath(dir));
    db.pragma('user_version = 999');
    db.close();
    expect(() => openRegistryDb(dir)).toThrow(expect.objectContaining({ code: 'schema_too_new' }));
  });

  it('refuses a migration list with a gap in its versions', () => {
    const db = new Database(path.join(tempDir(), 'r.db'));
    expect(() => applyMigrations(db, [{ version: 2, name: 'gap', sql: '' }])).toThrow(/expected 1/);
    db.close();
  });

  it('refuses to create a registry when one must already exist', () => {
    const dir = tempDir();
    expect(() => openRegistryDb(path.join(dir, 'typo'), { mustExist: true })).toThrow(RegistryError);
  });
});
