// Rule workers of two nodes on one reading log (a real NATS JetStream server) and one database: each
// partition is judged by exactly one node, and when a node dies its partitions are taken over from their
// snapshots with the timers they had armed, which fire at once when overdue.
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { SqliteDatabase } from '../../database/sqlite.ts';
import type { AcceptedReading } from '../../gateway/ports.ts';
import { JetStreamReadingLog } from '../../ingest/log/jetstream.ts';
import { startNatsCluster, type NatsCluster } from '../../test/nats.ts';
import { RuleEngine } from '../engine.ts';
import { devicesFileContext, type DevicesFile } from '../resident-context.ts';
import { loadRules } from '../rules/load.ts';
import type { AlertSignal } from '../signals.ts';
import { CLUSTER_SCHEMA } from './migrations.ts';
import { RuleWorkers } from './rule-workers.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const HOMES = 6;
const T0 = Date.UTC(2026, 11, 1, 2); // 10:00 in Shanghai
const DEVICES: DevicesFile = Object.fromEntries(
  Array.from({ length: HOMES }, (_, i) => [
    `W-${i}`,
    { kind: 'wearable', residentId: `rs_${i}`, homeId: `hm_${i}` },
  ]),
);
const logger = pino({ level: 'silent' });

let nats: NatsCluster;
let dir: string;
beforeAll(async () => {
  nats = await startNatsCluster(1);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function event(home: number, seq: number, ts: number, body: Record<string, unknown>): AcceptedReading {
  return {
    deviceId: `W-${home}`,
    kind: 'wearable',
    residentId: `rs_${home}`,
    homeId: `hm_${home}`,
    receivedAt: ts,
    qos: 1,
    message: { channel: 'event', body: { ts, seq, ...body } },
  } as AcceptedReading;
}

async function setUp(name: string) {
  dir = mkdtempSync(path.join(tmpdir(), 'anju-workers-'));
  const db = SqliteDatabase.open(path.join(dir, 'cluster.db'));
  await migrate(db, [CLUSTER_SCHEMA]);
  const log = await JetStreamReadingLog.connect({
    servers: nats.urls,
    stream: name,
    subjectPrefix: name.toLowerCase(),
    partitions: 4,
    replicas: 1,
  });
  cleanups.push(async () => {
    await log.close();
    await db.close();
  });
  let now = T0;
  const clock = () => now;
  const node = (nodeId: string) => {
    const signals: AlertSignal[] = [];
    const workers = new RuleWorkers({
      db,
      nodeId,
      log,
      logger,
      clock,
      leaseTtlMs: 600,
      snapshotEveryMs: 0,
      tickEveryMs: 50,
      newEngine: () => {
        const engine = new RuleEngine({ context: devicesFileContext(DEVICES), rules: loadRules() });
        engine.onSignal((s) => signals.push(s));
        return engine;
      },
    });
    cleanups.push(() => workers.abandon());
    return { workers, signals };
  };
  return { log, node, setNow: (t: number) => (now = t) };
}

it('judges every partition on exactly one node: an SOS from each home raises one alert', async () => {
  const { log, node } = await setUp('SHARE');
  const a = node('node-a');
  const b = node('node-b');
  a.workers.start();
  b.workers.start();
  await expect
    .poll(() => a.workers.partitions.length + b.workers.partitions.length, { timeout: 10_000 })
    .toBe(4);
  await expect
    .poll(() => Math.min(a.workers.partitions.length, b.workers.partitions.length), { timeout: 10_000 })
    .toBe(2);
  for (let home = 0; home < HOMES; home++) await log.accept(event(home, 1, T0, { type: 'sos' }));
  const sos = () =>
    [...a.signals, ...b.signals].filter((s) => s.ruleId === 'event.sos' && s.action === 'raise');
  await expect.poll(() => sos().length, { timeout: 10_000 }).toBe(HOMES);
  await new Promise((r) => setTimeout(r, 300));
  expect(
    sos()
      .map((s) => s.residentId)
      .sort(),
  ).toEqual(Array.from({ length: HOMES }, (_, i) => `rs_${i}`).sort());
});

it("takes over a dead node's partitions from their snapshots and fires the fall confirmation it had armed", async () => {
  const { log, node, setNow } = await setUp('TAKEOVER');
  const a = node('node-a');
  a.workers.start();
  await expect.poll(() => a.workers.partitions.length, { timeout: 10_000 }).toBe(4);
  setNow(T0 + 1_000);
  await log.accept(event(0, 1, T0, { type: 'fall', confidence: 0.9, cancellable: true, cancelWindowS: 30 }));
  // A has the fall and its confirmation timer, and snapshots it; no alert yet (the wearer may cancel).
  await expect
    .poll(
      () =>
        JSON.stringify(a.workers.engineOf(0)?.snapshot() ?? {}).includes('fall') ||
        JSON.stringify([0, 1, 2, 3].map((p) => a.workers.engineOf(p)?.snapshot())).includes('rs_0'),
      { timeout: 10_000 },
    )
    .toBe(true);
  await new Promise((r) => setTimeout(r, 300)); // a few snapshots (every tick here)
  expect(a.signals.filter((s) => s.ruleId === 'event.fall')).toEqual([]);

  await a.workers.abandon(); // killed: no hand-back, no last snapshot
  setNow(T0 + 10 * 60_000); // nobody cancelled; ten minutes pass before B takes over
  const b = node('node-b');
  b.workers.start();
  await expect.poll(() => b.workers.partitions.length, { timeout: 10_000 }).toBe(4);
  // Overdue by minutes: confirmed at once, and raised to its no-movement severity too (one incident).
  const falls = () => b.signals.filter((s) => s.ruleId === 'event.fall' && s.action === 'raise');
  await expect.poll(() => falls().length, { timeout: 10_000 }).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 300));
  expect(new Set(falls().map((s) => s.residentId))).toEqual(new Set(['rs_0']));
  // B did not read the fall again from the log: it came with the snapshot, its timer with it.
  const partition = b.workers.partitions.find(
    (p) => 'rs_0' in (b.workers.engineOf(p)?.snapshot().residents ?? {}),
  )!;
  expect(b.workers.engineOf(partition)!.stats.readings).toBe(0);
  expect(falls().map((s) => s.severity)).toEqual([...new Set(falls().map((s) => s.severity))]);
  expect(a.signals.filter((s) => s.ruleId === 'event.fall')).toEqual([]);
});
