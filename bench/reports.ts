// node --import tsx bench/reports.ts [-- --residents 1000 --per-month 10 --calls 30 --runs 3
//   --backends sqlite,postgres --periods month,year --trend-events 1000 --json]
//
// The community report for a community of `residents` residents with a year of alerts (`per-month` per
// resident and month, with their audit trail and deliveries, written as rows), next to a second community
// as large, on each backend:
//   SQLite: p50/p95 of GET /api/v1/communities/:id/report (a real anju serve, signed in as admin) for the
//           last month and for the whole year, then `anju report` (a real process) as JSON and as PDF;
//   PostgreSQL (test/postgres.ts): the route's work (assemble the report, serialise it) and `anju report`.
// And a resident's 90-day trends (SQLite telemetry store): a home of six room sensors with
// `trend-events` motion events a day (the CASAS home has about 1,000) and a wearable and water meter
// reporting hourly, read the way the trends route reads them.
// Targets (issue 15): the API call under 1 s at p95; `anju report` for a month under 10 s.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabases } from '../cli/databases.ts';
import { buildCommunityReport } from '../dashboard/reports/assemble.ts';
import { percentile } from '../dashboard/reports/figures.ts';
import { seedAlerts, seedCommunity, type SimulatedCommunity } from '../dashboard/reports/simulate.ts';
import { PostgresDatabase } from '../database/postgres.ts';
import type { Sql } from '../database/sql.ts';
import { SqliteDatabase } from '../database/sqlite.ts';
import { startTestAnju, TEST_ADMIN_PASSWORD } from '../test/harness.ts';
import { residentTrends } from '../dashboard/reports/trends.ts';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.ts';
import type { Point } from '../ingest/store/types.ts';
import { startPostgres } from '../test/postgres.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:reports -- [--residents N] [--per-month N] [--calls N] [--runs N] [--backends sqlite,postgres] [--periods month,year] [--trend-events N] [--json]',
  {
    residents: 1000,
    'per-month': 10,
    calls: 30,
    runs: 3,
    backends: 'sqlite,postgres',
    periods: 'month,year',
    'trend-events': 1000,
  },
);
const BACKENDS = args.backends.split(',');
const PERIODS = args.periods.split(',');
const { residents: RESIDENTS, 'per-month': PER_MONTH, calls: CALLS, runs: RUNS } = args;
const ROOT = path.resolve(import.meta.dirname, '..');
const YEAR_FROM = Date.parse('2025-12-01T00:00:00+08:00');
const YEAR_TO = Date.parse('2026-12-01T00:00:00+08:00');
const MONTH = '2026-11';

interface Timings {
  p50: number;
  p95: number;
  max: number;
}
const summary = (ms: number[]): Timings => ({
  p50: percentile(ms, 0.5)!,
  p95: percentile(ms, 0.95)!,
  max: Math.max(...ms),
});
const fmt = (t: Timings) =>
  `p50 ${t.p50.toFixed(0)} ms, p95 ${t.p95.toFixed(0)} ms, max ${t.max.toFixed(0)} ms`;

async function seed(registry: Sql, alerts: Sql): Promise<SimulatedCommunity> {
  const started = Date.now();
  const count = RESIDENTS * PER_MONTH * 12;
  const target = await seedCommunity(registry, {
    id: 'cm_bench',
    name: '基准社区',
    timeZone: 'Asia/Shanghai',
    residents: RESIDENTS,
    seed: 1,
  });
  const other = await seedCommunity(registry, {
    id: 'cm_other',
    name: 'Other',
    timeZone: null,
    residents: RESIDENTS,
    seed: 2,
  });
  // A month at a time keeps each transaction's rows in memory small.
  for (let m = 0; m < 12; m++) {
    const from = YEAR_FROM + Math.floor(((YEAR_TO - YEAR_FROM) * m) / 12);
    const to = YEAR_FROM + Math.floor(((YEAR_TO - YEAR_FROM) * (m + 1)) / 12);
    await seedAlerts(alerts, { community: target, from, to, count: count / 12, seed: 100 + m, openShare: 0 });
    await seedAlerts(alerts, { community: other, from, to, count: count / 12, seed: 200 + m, openShare: 0 });
    log(`  seeded month ${m + 1}/12`);
  }
  log(`seeded 2 x ${count} alerts with their audit trail and deliveries in ${Date.now() - started} ms`);
  return target;
}

function runAnju(args: string[]): Promise<number> {
  const env = { ...process.env };
  delete env.ANJU_DATA_DIR;
  delete env.ANJU_DATABASE_URL;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/anju.js'), ...args], { cwd: ROOT, env }, (err, _o, e) =>
      err ? reject(new Error(`anju ${args.join(' ')} failed: ${e}`)) : resolve(performance.now() - started),
    );
  });
}

async function cliTimes(where: string[], dir: string): Promise<Record<'json' | 'pdf', Timings>> {
  const out: Record<string, Timings> = {};
  for (const format of ['json', 'pdf'] as const) {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const file = path.join(dir, `report-${i}.${format}`);
      ms.push(
        await runAnju([
          'report',
          '--community',
          'cm_bench',
          '--month',
          MONTH,
          '--format',
          format,
          '--out',
          file,
          ...where,
        ]),
      );
    }
    out[format] = summary(ms);
    log(`  anju report --format ${format}: ${fmt(out[format]!)}`);
  }
  return out as Record<'json' | 'pdf', Timings>;
}

async function benchSqlite() {
  log('sqlite: starting anju serve');
  const anju = await startTestAnju();
  try {
    const registry = SqliteDatabase.open(path.join(anju.dataDir, 'registry.db'));
    const alerts = SqliteDatabase.open(path.join(anju.dataDir, 'alerts.db'));
    try {
      await seed(registry, alerts);
    } finally {
      await registry.close();
      await alerts.close();
    }
    const base = `http://127.0.0.1:${anju.ports.http}`;
    const signIn = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    const cookie = /anju_session=[^;]+/.exec(signIn.headers.get('set-cookie') ?? '')?.[0];
    if (!cookie) throw new Error(`admin sign-in failed: ${signIn.status}`);
    const api: Record<string, Timings> = {};
    for (const [name, query] of [
      ['month', `month=${MONTH}`],
      ['year', `from=${YEAR_FROM}&to=${YEAR_TO}`],
    ] as const) {
      if (!PERIODS.includes(name)) continue;
      const ms: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        const started = performance.now();
        const res = await fetch(`${base}/api/v1/communities/cm_bench/report?${query}`, {
          headers: { cookie },
        });
        await res.json();
        if (!res.ok) throw new Error(`report API answered ${res.status}`);
        ms.push(performance.now() - started);
      }
      api[name] = summary(ms);
      log(`  GET report (${name}): ${fmt(api[name]!)}`);
    }
    await anju.close();
    const cli = await cliTimes(['--data-dir', anju.dataDir], anju.dataDir);
    return { api, cli };
  } finally {
    await anju.stop();
  }
}

async function benchPostgres() {
  log('postgres: starting a server');
  const server = await startPostgres();
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-bench-reports-'));
  try {
    const url = await server.createDatabase();
    const db = new PostgresDatabase(url);
    try {
      // Every owner's migrations, the alerts' included, as `anju serve --database` would run them.
      const dbs = await openDatabases({ dataDir: dir, url });
      await dbs.close();
      await seed(db, db);
      await db.run('ANALYZE');
      const api: Record<string, Timings> = {};
      for (const [name, period] of [
        ['month', { month: MONTH }],
        ['year', { from: YEAR_FROM, to: YEAR_TO }],
      ] as const) {
        if (!PERIODS.includes(name)) continue;
        const ms: number[] = [];
        for (let i = 0; i < CALLS; i++) {
          const started = performance.now();
          JSON.stringify(await buildCommunityReport({ registry: db, alerts: db }, 'cm_bench', period));
          ms.push(performance.now() - started);
        }
        api[name] = summary(ms);
        log(`  report assembled (${name}): ${fmt(api[name]!)}`);
      }
      const cli = await cliTimes(['--database', url], dir);
      return { api, cli };
    } finally {
      await db.close();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchTrends(): Promise<{ points: number; days90: Timings }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-bench-trends-'));
  const store = new SqliteTelemetryStore({ dataDir: dir });
  try {
    const rooms = ['bedroom', 'bathroom', 'kitchen', 'living', 'entrance', 'other'] as const;
    const now = Date.parse('2026-11-30T20:00:00+08:00');
    const first = now - 91 * 86_400_000;
    const perDay = args['trend-events'];
    let points: Point[] = [];
    let total = 0;
    let seq = 0;
    const flush = async () => {
      await store.write(points);
      total += points.length;
      points = [];
    };
    for (let ts = first; ts < now; ts += 86_400_000 / perDay) {
      const room = rooms[seq % rooms.length]!;
      points.push({
        measurement: 'event',
        tags: { deviceId: `e-${room}`, homeId: 'h1', type: 'motion' },
        fields: { event: 'motion' },
        ts: Math.round(ts),
        seq: seq++,
      });
      if (points.length >= 10_000) await flush();
    }
    for (let ts = first; ts < now; ts += 3_600_000) {
      const tags = { residentId: 'r1' };
      points.push(
        {
          measurement: 'wearable',
          tags: { ...tags, deviceId: 'w1' },
          fields: { steps: seq % 5000, heartRate: 70 },
          ts,
          seq: seq++,
        },
        { measurement: 'water', tags: { ...tags, deviceId: 'm1' }, fields: { litres: seq }, ts, seq: seq++ },
      );
    }
    await flush();
    const home = {
      devices: rooms.map((room) => ({ id: `e-${room}`, room })),
      sleep: { from: 22 * 60, to: 7 * 60 },
      nightDoor: { from: 22 * 60, to: 6 * 60 },
    };
    const ms: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const started = performance.now();
      await residentTrends(store, { residentId: 'r1', days: 90, timeZone: 'Asia/Shanghai', now, home });
      ms.push(performance.now() - started);
    }
    const days90 = summary(ms);
    log(`trends: 90 days of ${total} points: ${fmt(days90)}`);
    return { points: total, days90 };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = {
  residents: RESIDENTS,
  alertsPerYear: RESIDENTS * PER_MONTH * 12,
  sqlite: BACKENDS.includes('sqlite') ? await benchSqlite() : undefined,
  postgres: BACKENDS.includes('postgres') ? await benchPostgres() : undefined,
  trends: await benchTrends(),
};
if (args.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
else {
  for (const backend of ['sqlite', 'postgres'] as const) {
    const r = results[backend];
    if (!r) continue;
    const api = Object.entries(r.api).map(([period, t]) => `API ${period} ${fmt(t)}; `);
    process.stdout.write(
      `${backend}: ${api.join('')}anju report json ${fmt(r.cli.json)}; pdf ${fmt(r.cli.pdf)}\n`,
    );
  }
  process.stdout.write(`trends (90 days, ${results.trends.points} points): ${fmt(results.trends.days90)}\n`);
}
