// The promises that must hold across Anju processes sharing one PostgreSQL, tested with real OS processes
// (test-process.ts through tsx), each with its own AlertService and connection pool: racing raises open
// one alert, an acknowledge racing a resolve has one winner, and an escalation step is e-mailed once
// however many processes run the escalator.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { PostgresDatabase } from '../../database/postgres.ts';
import { startPostgresAroundTests, type PostgresServer } from '../../test/postgres.ts';
import { ALERTS_SCHEMA } from './migrations.ts';
import { AlertService } from './service.ts';
import type { Job } from './test-process.ts';
import { EMAIL_DAUGHTER_DIRECTORY, raise, T0, TWO_EMAILS } from './test-support.ts';

const SCRIPT = fileURLToPath(new URL('./test-process.ts', import.meta.url));
const MIN = 60_000;

let server: PostgresServer;
startPostgresAroundTests((started) => (server = started));

/** A fresh, migrated database and a service on it in this (the test's) process. */
async function freshDatabase() {
  const url = await server.createDatabase();
  const db = new PostgresDatabase(url);
  await migrate(db, [ALERTS_SCHEMA]);
  const service = await AlertService.open({
    db,
    clock: { now: () => T0 },
    directory: EMAIL_DAUGHTER_DIRECTORY,
    policies: TWO_EMAILS,
  });
  return { url, db, service };
}

interface Child {
  ready: Promise<void>;
  go(): void;
  result: Promise<unknown>;
}

function child(url: string, job: Job): Child {
  const proc: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', SCRIPT, url, JSON.stringify(job)],
    { stdio: 'pipe' },
  );
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const result = new Promise<unknown>((resolve, reject) =>
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`test process failed (${code}): ${err}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    }),
  );
  // A child that dies before it is ready must fail the test, not hang it.
  void result.catch(() => markReady());
  return { ready, go: () => proc.stdin.write('go\n'), result };
}

/** Starts the jobs as separate processes, lets them go together once all are ready, returns their outcomes. */
async function together(url: string, jobs: Job[], whileRunning?: () => Promise<void>): Promise<unknown[]> {
  const children = jobs.map((job) => child(url, job));
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  await whileRunning?.();
  return Promise.all(children.map((c) => c.result));
}

describe('two Anju processes on one PostgreSQL', () => {
  it('open one alert per resident and rule when both raise it at once; the later raise repeats it', async () => {
    const { url, db, service } = await freshDatabase();
    const residents = Array.from({ length: 30 }, (_, i) => `rs_${i}`);
    const outcomes = (await together(url, [
      { job: 'raise', residents },
      { job: 'raise', residents },
    ])) as { type: string; alertId: string }[][];
    const [a, b] = outcomes as [(typeof outcomes)[0], (typeof outcomes)[0]];
    residents.forEach((_, i) => {
      // One process opened it, the other repeated that very alert.
      expect([a[i]!.type, b[i]!.type].sort()).toEqual(['new', 'update']);
      expect(a[i]!.alertId).toBe(b[i]!.alertId);
    });
    const rows = await db.all<{ resident_id: string; n: number; repeats: number }>(
      `SELECT resident_id, count(*) AS n, max(repeat_count) AS repeats FROM alerts GROUP BY resident_id`,
    );
    expect(rows).toHaveLength(30);
    expect(rows.every((r) => r.n === 1 && r.repeats === 1)).toBe(true);
    const trail = await db.all<{ action: string; n: number }>(
      'SELECT action, count(*) AS n FROM audit GROUP BY action ORDER BY action',
    );
    expect(trail).toEqual([
      { action: 'opened', n: 30 },
      { action: 'repeated', n: 30 },
    ]);
    await service.close();
    await db.close();
  }, 60_000);

  it('let one of an acknowledge and a resolve racing on the same alert win, and refuse the other', async () => {
    const { url, db, service } = await freshDatabase();
    const { alert } = (await service.apply(raise({ residentId: 'rs_race' })))!;
    // Both processes read the open alert, then queue on its row, which this connection holds; released,
    // one writes and the other finds the state it decided on gone.
    const holder = new pg.Client({ connectionString: url });
    holder.on('error', () => {}); // the server stops after the test
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM alerts WHERE id = $1 FOR UPDATE', [alert.id]);
    const outcomes = (await together(
      url,
      [
        { job: 'act', alertId: alert.id, action: 'acknowledge' },
        { job: 'act', alertId: alert.id, action: 'resolve' },
      ],
      async () => {
        for (let waiting = 0; waiting < 2;) {
          await new Promise((r) => setTimeout(r, 50));
          // Asked on another connection: inside a transaction the activity view is a frozen snapshot.
          const row = await db.one<{ n: number }>(
            `SELECT count(*) AS n FROM pg_stat_activity
             WHERE application_name = 'anju-test-process' AND wait_event_type = 'Lock'`,
          );
          waiting = row!.n;
        }
        await holder.query('COMMIT');
      },
    )) as { ok: boolean; code?: string; state?: string }[];
    await holder.end();
    const winners = outcomes.filter((o) => o.ok);
    const losers = outcomes.filter((o) => !o.ok);
    expect(winners).toHaveLength(1);
    expect(losers).toMatchObject([{ ok: false, code: 'changed_meanwhile' }]);
    const stored = (await service.get(alert.id))!;
    expect(stored.state).toBe(winners[0]!.state);
    const actions = (await service.history(alert.id)).map((e) => e.action);
    expect(actions).toEqual(['opened', stored.state === 'resolved' ? 'resolved' : 'acknowledged']);
    await service.close();
    await db.close();
  }, 60_000);

  it('e-mail each escalation step once, however many processes run the escalator', async () => {
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(...session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    try {
      const { url, db, service } = await freshDatabase();
      const residents = Array.from({ length: 10 }, (_, i) => `rs_${i}`);
      for (const residentId of residents) await service.apply(raise({ residentId }));
      const job: Job = { job: 'escalate', smtpPort, times: [T0, T0, T0 + MIN, T0 + MIN] };
      await together(url, [job, job, job]);
      // Step 0 and step 1 of each alert, to its daughter, once each.
      expect(received.sort()).toEqual(
        residents.flatMap((r) => [`${r}@example.org`, `${r}@example.org`]).sort(),
      );
      const deliveries = await db.all<{ n: number }>(
        'SELECT count(*) AS n FROM deliveries WHERE ok = 1 GROUP BY alert_id, step',
      );
      expect(deliveries).toHaveLength(20);
      expect(deliveries.every((d) => d.n === 1)).toBe(true);
      expect(await db.one('SELECT count(*) AS n FROM outbox WHERE done_at IS NULL')).toEqual({ n: 0 });
      await service.close();
      await db.close();
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  }, 90_000);
});
