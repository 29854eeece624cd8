import { describe, expect, it } from 'vitest';
import { eachBackend } from '../test/backends.ts';
import { migrate, migrationStatus, SchemaTooNewError, type SchemaOwner } from './migrations.ts';
import { isCheckViolation, isForeignKeyViolation, isUniqueViolation, numberPlaceholders } from './sql.ts';

const PEOPLE: SchemaOwner = {
  owner: 'people',
  migrations: [
    {
      version: 1,
      name: 'people',
      sql: `CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL, born BIGINT NOT NULL,
              age INTEGER CHECK (age >= 0));`,
    },
    {
      version: 2,
      name: 'pets',
      sql: `CREATE TABLE pets (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES people (id));`,
    },
  ],
};

describe('numberPlaceholders', () => {
  it('numbers ? outside quotes only', () => {
    expect(numberPlaceholders(`SELECT '?' AS q, "a?" FROM t WHERE a = ? AND b = ?`)).toBe(
      `SELECT '?' AS q, "a?" FROM t WHERE a = $1 AND b = $2`,
    );
  });
});

eachBackend('database', (backend) => {
  it('returns rows with integers and Unix ms times as numbers', async () => {
    const db = await backend.fresh();
    await migrate(db, [PEOPLE]);
    await db.run('INSERT INTO people (id, name, born, age) VALUES (?, ?, ?, ?)', [
      'p1',
      '王秀英',
      1764547200000,
      81,
    ]);
    const row = await db.one<{ name: string; born: number; age: number }>(
      'SELECT * FROM people WHERE id = ?',
      ['p1'],
    );
    expect(row).toEqual({ id: 'p1', name: '王秀英', born: 1764547200000, age: 81 });
    const count = await db.one<{ n: number }>('SELECT count(*) AS n FROM people');
    expect(count?.n).toBe(1);
    expect(await db.one('SELECT * FROM people WHERE id = ?', ['nobody'])).toBeUndefined();
  });

  it('classifies unique, foreign key and check violations alike on both backends', async () => {
    const db = await backend.fresh();
    await migrate(db, [PEOPLE]);
    await db.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['p1', 'a', 1]);
    const unique = await db
      .run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['p1', 'b', 1])
      .catch((e) => e);
    expect(isUniqueViolation(unique)).toBe(true);
    const foreign = await db
      .run('INSERT INTO pets (id, owner_id) VALUES (?, ?)', ['x', 'nobody'])
      .catch((e) => e);
    expect(isForeignKeyViolation(foreign)).toBe(true);
    const check = await db
      .run('INSERT INTO people (id, name, born, age) VALUES (?, ?, ?, ?)', ['p2', 'c', 1, -1])
      .catch((e) => e);
    expect(isCheckViolation(check)).toBe(true);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const db = await backend.fresh();
    await migrate(db, [PEOPLE]);
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['kept', 'a', 1]);
      await tx.transaction(async (inner) =>
        inner.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['nested', 'b', 1]),
      );
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['lost', 'c', 1]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const ids = (await db.all<{ id: string }>('SELECT id FROM people ORDER BY id')).map((r) => r.id);
    expect(ids).toEqual(['kept', 'nested']);
  });

  it('keeps a statement from outside out of an open transaction', async () => {
    const db = await backend.fresh();
    await migrate(db, [PEOPLE]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = db
      .transaction(async (t) => {
        await t.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['in-tx', 'a', 1]);
        await held;
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const outside = db.run('INSERT INTO people (id, name, born) VALUES (?, ?, ?)', ['outside', 'b', 1]);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await tx;
    await outside;
    const ids = (await db.all<{ id: string }>('SELECT id FROM people ORDER BY id')).map((r) => r.id);
    expect(ids).toEqual(['outside']);
  });

  it('migrates once, records versions per owner, and lets two processes start together', async () => {
    const db = await backend.fresh();
    const other = await backend.again();
    // Two SQLite connections in one process would block each other's thread; processes just wait.
    const [a, b] =
      backend.name === 'postgres'
        ? await Promise.all([migrate(db, [PEOPLE]), migrate(other, [PEOPLE])])
        : [await migrate(db, [PEOPLE]), await migrate(other, [PEOPLE])];
    expect([...a, ...b].map((m) => m.version).sort()).toEqual([1, 2]);
    expect(await migrate(db, [PEOPLE])).toEqual([]);
    expect(await migrationStatus(db, [PEOPLE])).toEqual([{ owner: 'people', version: 2, latest: 2 }]);
  });

  it('refuses a database newer than the code', async () => {
    const db = await backend.fresh();
    await migrate(db, [PEOPLE]);
    const older: SchemaOwner = { owner: 'people', migrations: PEOPLE.migrations.slice(0, 1) };
    await expect(migrate(db, [older])).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it('leaves a failed migration unapplied', async () => {
    const db = await backend.fresh();
    const broken: SchemaOwner = {
      owner: 'people',
      migrations: [
        PEOPLE.migrations[0]!,
        {
          version: 2,
          name: 'broken',
          sql: 'CREATE TABLE pets (id TEXT PRIMARY KEY); CREATE TABLE nonsense (',
        },
      ],
    };
    await expect(migrate(db, [broken])).rejects.toThrow();
    expect(await migrationStatus(db, [PEOPLE])).toEqual([{ owner: 'people', version: 1, latest: 2 }]);
    expect(await migrate(db, [PEOPLE])).toEqual([{ owner: 'people', version: 2, name: 'pets' }]);
  });

  if (backend.name === 'postgres') {
    it('fails a transaction whose connection PostgreSQL ends, and goes on with the next', async () => {
      const db = await backend.fresh();
      const other = await backend.again();
      const ended = db.transaction(async (tx) => {
        const me = await tx.one<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await other.one('SELECT pg_terminate_backend(?)', [me!.pid]);
        await tx.one('SELECT 1 AS one');
      });
      // Unhandled, the client's 'error' event would end the process (a node during a restart).
      await expect(ended).rejects.toThrow(/terminat|connection error/i);
      expect(await db.one('SELECT 1 AS one')).toEqual({ one: 1 });
    });
  }

  if (backend.name === 'sqlite') {
    it('adopts a file made before per-owner migrations, upgrading it first', async () => {
      const db = await backend.fresh();
      await db.exec(`CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL, born BIGINT NOT NULL, age INTEGER CHECK (age >= 0));
                     INSERT INTO people VALUES ('old', 'kept', 1, 2); PRAGMA user_version = 1;`);
      const legacy = { upgrade: PEOPLE.migrations, owners: { people: 'user_version' as const } };
      expect(await migrate(db, [PEOPLE], { legacy })).toEqual([]);
      expect(await migrationStatus(db, [PEOPLE])).toEqual([{ owner: 'people', version: 2, latest: 2 }]);
      expect(await db.one('SELECT id FROM people')).toEqual({ id: 'old' });
      await db.run("INSERT INTO pets VALUES ('cat', 'old')");
    });
  }
});
