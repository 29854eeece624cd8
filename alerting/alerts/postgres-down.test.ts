// A PostgreSQL that goes away under a running AlertService (killed, as on a crash): the alerts it cannot
// store are kept in memory and still shown to the consoles, apply() does not reject, and the failure is
// told to /healthz as a storage failure. Also which PostgreSQL errors count as storage refusing a write.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { PostgresDatabase } from '../../database/postgres.ts';
import { isUniqueViolation } from '../../database/sql.ts';
import { isStorageError } from '../../ops/storage-errors.ts';
import { startPostgresAroundTests, type PostgresServer } from '../../test/postgres.ts';
import { ALERTS_SCHEMA } from './migrations.ts';
import type { AlertChange } from './schemas.ts';
import { AlertService } from './service.ts';
import { raise, settableClock, T0 } from './test-support.ts';

async function thrown(action: Promise<unknown>): Promise<unknown> {
  try {
    await action;
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('alerts when PostgreSQL goes away', () => {
  let server: PostgresServer;
  startPostgresAroundTests((started) => (server = started));

  it('tells a lost connection and a refused one from a constraint', async () => {
    const url = await server.createDatabase();
    const victim = new pg.Client({ connectionString: url });
    victim.on('error', () => {});
    await victim.connect();
    const admin = new PostgresDatabase(url);
    const { pid } = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
    // An operator (or a failover) ends the session: 57P01, admin_shutdown.
    const ended = thrown(victim.query('SELECT pg_sleep(10)'));
    await new Promise((r) => setTimeout(r, 200));
    await admin.run('SELECT pg_terminate_backend(?)', [pid]);
    const err = await ended;
    expect(isStorageError(err), String(err)).toBe(true);
    await admin.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await admin.run('INSERT INTO t VALUES (1)');
    const duplicate = await thrown(admin.run('INSERT INTO t VALUES (1)'));
    expect(isUniqueViolation(duplicate)).toBe(true);
    expect(isStorageError(duplicate)).toBe(false);
    await victim.end().catch(() => {});
    await admin.close();
  });

  it('keeps and shows the alerts it cannot store, and says storage failed', async () => {
    const url = await server.createDatabase();
    const db = new PostgresDatabase(url);
    await migrate(db, [ALERTS_SCHEMA]);
    const failed: unknown[] = [];
    const errors: unknown[] = [];
    const clock = settableClock();
    const service = await AlertService.open({
      db,
      clock,
      writes: { failed: (err) => failed.push(err), succeeded: () => {}, dropped: () => {} },
      onError: (err) => errors.push(err),
      retryEveryMs: 50,
    });
    const shown: AlertChange[] = [];
    service.onChange((c) => shown.push(c));
    const stored = (await service.apply(raise({ residentId: 'rs_1' })))!;
    expect(stored.audit.id).toBeGreaterThan(0);

    await server.kill();
    const waiting = await service.apply(
      raise({ residentId: 'rs_2', ruleId: 'event.sos', severity: 'critical' }),
    );
    expect(waiting).toMatchObject({
      type: 'new',
      alert: { residentId: 'rs_2', state: 'open' },
      audit: { id: 0 },
    });
    expect(shown.at(-1)).toEqual(waiting);
    expect(service.pendingWrites()).toBe(1);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every(isStorageError)).toBe(true);
    // Later signals wait behind it, in order, and are shown too.
    clock.set(T0 + 1000);
    const next = await service.apply(raise({ residentId: 'rs_3' }));
    expect(next?.alert.residentId).toBe('rs_3');
    expect(service.pendingWrites()).toBe(2);
    // Listed for a console that connects while the database is gone.
    expect((await service.list({})).map((a) => a.residentId)).toEqual(['rs_3', 'rs_2']);
    await service.close();
    expect(errors.map(String)).toContainEqual(expect.stringMatching(/2 alert changes not stored/));
    await db.close();
  }, 60_000);
});
