// node --import tsx bench/search.ts [-- --residents 5000 --alerts 100000 --calls 50 --backends sqlite,postgres]
//
// Search and cursor pages of the console's lists on a large registry, on each backend: two communities of
// `residents` residents (each with three devices) and `alerts` alerts per community over a year, written
// as rows (dashboard/reports/simulate.ts). Times each query as a staff member of one community asks it
// through Registry and AlertService (the routes add only the cursor's encoding): p50 and p95 in ms.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AlertService } from '../alerting/alerts/index.ts';
import { percentile } from '../dashboard/reports/figures.ts';
import {
  createAlertTables,
  createRegistryTables,
  seedAlerts,
  seedCommunity,
} from '../dashboard/reports/simulate.ts';
import { PostgresDatabase } from '../database/postgres.ts';
import type { Database } from '../database/sql.ts';
import { SqliteDatabase } from '../database/sqlite.ts';
import { Registry, residentKey } from '../registry/index.ts';
import { startPostgres } from '../test/postgres.ts';
import { benchArgs } from './args.ts';

const args = benchArgs(
  'npm run bench:search -- [--residents N] [--alerts N] [--calls N] [--backends sqlite,postgres]',
  {
    residents: 5000,
    alerts: 100000,
    calls: 50,
    backends: 'sqlite,postgres',
  },
);
const { residents: RESIDENTS, alerts: ALERTS, calls: CALLS } = args;
const YEAR = 365 * 24 * 3_600_000;

async function time(name: string, fn: () => Promise<unknown>): Promise<void> {
  await fn(); // warm up
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `  ${name.padEnd(46)} p50 ${percentile(ms, 0.5)!.toFixed(1).padStart(7)}  p95 ${percentile(ms, 0.95)!.toFixed(1).padStart(7)}`,
  );
}

async function measure(backend: string, db: Database): Promise<void> {
  await createRegistryTables(db);
  await createAlertTables(db);
  const to = Date.now();
  for (const [i, id] of ['cm-a', 'cm-b'].entries()) {
    const community = await seedCommunity(db, {
      id,
      name: `社区${i}`,
      timeZone: null,
      residents: RESIDENTS,
      seed: i + 1,
    });
    await seedAlerts(db, { community, from: to - YEAR, to, count: ALERTS, seed: i + 1 });
  }
  const registry = new Registry(db, { flushEveryMs: 0 });
  const alerts = await AlertService.open({ db, clock: { now: () => to } });
  const reach = { communityIds: ['cm-a'] };
  const middle = (await registry.findResidents({ ...reach, limit: Math.floor(RESIDENTS / 2) })).at(-1)!;
  // The service lists at most 5000 at once: page 51 of 100 is deep enough to show the keyset's cost.
  const midAlert = (await alerts.list({ ...reach, limit: Math.min(5000, Math.floor(ALERTS / 2)) })).at(-1)!;
  console.log(
    `${backend}: ${RESIDENTS} residents, ${3 * RESIDENTS} devices, ${ALERTS} alerts per community, 2 communities`,
  );
  await time('residents, first page of 100', () => registry.findResidents({ ...reach, limit: 101 }));
  await time('residents, page of 100 from the middle', () =>
    registry.findResidents({ ...reach, after: residentKey(middle), limit: 101 }),
  );
  await time('residents, search "R123"', () =>
    registry.findResidents({ ...reach, search: 'R123', limit: 101 }),
  );
  await time('devices, first page of 100', () => registry.findDevices({ ...reach, limit: 101 }));
  await time('devices, search "wearable42"', () =>
    registry.findDevices({ ...reach, search: 'wearable42', limit: 101 }),
  );
  await time('alerts, first page of 100', () => alerts.list({ ...reach, limit: 101 }));
  await time('alerts, page of 100 after the first 5000', () =>
    alerts.list({ ...reach, after: midAlert, limit: 101 }),
  );
  await time('alerts, search "R123" (registry, then alerts)', async () => {
    const residents = await registry.findResidents({ ...reach, search: 'R123', limit: 2000 });
    return alerts.list({
      ...reach,
      matching: { residentIds: residents.map((r) => r.id), deviceId: 'R123' },
      limit: 101,
    });
  });
  await alerts.close();
  await registry.close();
}

for (const backend of args.backends.split(',')) {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'anju-search-bench-'));
    const db = SqliteDatabase.open(path.join(dir, 'bench.db'));
    try {
      await measure('sqlite', db);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (backend === 'postgres') {
    const server = await startPostgres();
    const db = new PostgresDatabase(await server.createDatabase());
    try {
      await measure('postgres', db);
    } finally {
      await db.close();
      await server.stop();
    }
  }
}
