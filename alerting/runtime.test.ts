// The rule path inside a running Anju, on a real registry, journal, rule engine and alert store: a reading
// the rules fail on is logged and counted, and never costs the other readings of its batch.
import path from 'node:path';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { Journal } from '../ingest/journal.ts';
import { useTempDirs } from '../registry/test-dir.ts';
import { waitFor } from '../test/harness.ts';
import { registryContext } from './resident-context.ts';
import { startAlerting, type RunningAlerting } from './runtime.ts';
import { openRegistry, useRegistry } from '../cli/open-registry.ts';

const tempDir = useTempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A registry with one resident wearing W-OK and W-BAD, a gas detector in her home, and a journal. */
async function setUp() {
  const dataDir = tempDir();
  const registry = await openRegistry(dataDir, { flushEveryMs: 0 });
  const journal = new Journal({ path: path.join(dataDir, 'journal.db') });
  cleanups.push(async () => {
    await journal.close();
    await registry.close();
  });
  const resident = await registry.addResident({
    name: '王秀英',
    address: ADDRESS,
  });
  for (const id of ['W-OK', 'W-BAD'])
    await registry.addDevice({ id, kind: 'wearable', residentId: resident.id });
  await registry.addDevice({ id: 'G-1', kind: 'gas_sensor', homeId: resident.home.homeId, room: 'kitchen' });
  return { dataDir, registry, journal, residentId: resident.id, homeId: resident.home.homeId };
}

const ADDRESS = { community: '新嘉', compound: '1', building: '3', home: '301' };

async function start(env: Awaited<ReturnType<typeof setUp>>, poisoned = true) {
  const logs: { level: number; msg: string; err?: { stack?: string }; deviceId?: string }[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const metrics = new MetricsRegistry();
  const real = registryContext(env.registry);
  await real.ready; // as serve does: the catch-up below needs the registry loaded
  // A registry row the rules cannot use stands for any bug on one device's path.
  const context = {
    device: (id: string) => {
      if (id === 'W-BAD') throw new Error('poisoned device');
      return real.device(id);
    },
  };
  const alerting: RunningAlerting = await startAlerting({
    dataDir: env.dataDir,
    registry: env.registry,
    journal: env.journal,
    logger,
    channels: [],
    metrics,
    ...(poisoned && { context }),
  });
  cleanups.push(() => alerting.close());
  const errorCount = async () =>
    (await metrics.getSingleMetric('anju_rule_errors_total')!.get()).values.find(
      (v) => v.labels.stage === 'reading',
    )?.value ?? 0;
  const judged = async () =>
    Number(/^anju_reading_judged_seconds_count (\d+)$/m.exec(await metrics.metrics())?.[1]);
  return { alerting, logs, errorCount, judged };
}

function reading(
  env: { residentId: string; homeId: string },
  deviceId: string,
  seq: number,
): AcceptedReading {
  const ts = Date.now() - 1000 + seq;
  return {
    deviceId,
    kind: 'wearable',
    residentId: env.residentId,
    homeId: env.homeId,
    receivedAt: ts,
    qos: 1,
    message:
      deviceId === 'W-BAD'
        ? { channel: 'telemetry', body: { ts, seq, heartRate: 70, worn: true } }
        : { channel: 'event', body: { ts, seq, type: 'sos' } },
  };
}

describe('the rule path never drops a reading', () => {
  it('opens the SOS of a journal batch whose first reading the rules fail on, and logs and counts that one', async () => {
    const env = await setUp();
    const { alerting, logs, errorCount, judged } = await start(env);
    // Accepted together, so that the journal commits them as one batch, the poisoned reading first.
    await Promise.all([
      env.journal.accept(reading(env, 'W-BAD', 1)),
      env.journal.accept(reading(env, 'W-OK', 2)),
    ]);
    // The engine does not wait for the alerts database: the alert is stored just after.
    await vi.waitFor(async () =>
      expect(await alerting.alerts.list({ residentIds: [env.residentId] })).toMatchObject([
        { ruleId: 'event.sos', severity: 'critical', state: 'open' },
      ]),
    );
    expect(await errorCount()).toBe(1);
    expect(logs).toMatchObject([{ level: 50, deviceId: 'W-BAD' }]);
    expect(logs[0]!.err!.stack).toContain('poisoned device');
    // How far the rules lag behind the gateway counts every live reading, the failed one too.
    expect(await judged()).toBe(2);
  });

  it('does the same for readings journaled while alerting was down (the catch-up at start)', async () => {
    const env = await setUp();
    await Promise.all([
      env.journal.accept(reading(env, 'W-BAD', 1)),
      env.journal.accept(reading(env, 'W-OK', 2)),
    ]);
    const { alerting, errorCount, judged } = await start(env);
    await vi.waitFor(async () =>
      expect(await alerting.alerts.list({ residentIds: [env.residentId] })).toMatchObject([
        { ruleId: 'event.sos' },
      ]),
    );
    expect(await errorCount()).toBe(1);
    // Readings caught up are old: their age is not the rules' lag.
    expect(await judged()).toBe(0);
  });
});

function gasReading(homeId: string, seq: number, alarm: boolean): AcceptedReading {
  const ts = Date.now();
  return {
    deviceId: 'G-1',
    kind: 'gas_sensor',
    residentId: null,
    homeId,
    receivedAt: ts,
    qos: 1,
    message: alarm
      ? {
          channel: 'event',
          body: { ts, seq, type: 'gas_alarm', gas: 'methane', concentration: 60, unit: '%LEL' },
        }
      : { channel: 'telemetry', body: { ts, seq, gas: 'methane', concentration: 2, unit: '%LEL' } },
  };
}

describe('a resident added to a home', () => {
  it("is watched by the home's gas detector at once, without a restart (the admin page's path)", async () => {
    const env = await setUp();
    const { alerting } = await start(env, false);
    // The detector has reported, so the engine knows whom it watches: the first resident only.
    await env.journal.accept(gasReading(env.homeId, 1, false));
    const newcomer = await env.registry.addResident({ name: '李建国', address: ADDRESS });
    await env.journal.accept(gasReading(env.homeId, 2, true));
    await vi.waitFor(async () => {
      const alerted = (await alerting.alerts.list({ state: 'open' })).map((a) => [a.residentId, a.ruleId]);
      expect(alerted).toEqual(
        expect.arrayContaining([
          [env.residentId, 'gas.methane'],
          [newcomer.id, 'gas.methane'],
        ]),
      );
    });
  });

  it('is watched within seconds when another process (the CLI) adds them to the same registry file', async () => {
    const env = await setUp();
    const { alerting } = await start(env, false);
    await env.journal.accept(gasReading(env.homeId, 1, false));
    const newcomer = await useRegistry(env.dataDir, {}, (cli) =>
      cli.addResident({ name: '张桂兰', address: ADDRESS }),
    );
    // The gas alarm goes on; once the watch has seen the other process's commit, it reaches her too.
    let seq = 2;
    await waitFor(
      async () => {
        await env.journal.accept(gasReading(env.homeId, seq++, true));
        return (await alerting.alerts.list({ residentIds: [newcomer.id] })).length > 0;
      },
      3000,
      200,
    );
    expect(await alerting.alerts.list({ residentIds: [newcomer.id] })).toMatchObject([
      { ruleId: 'gas.methane', state: 'open' },
    ]);
  });
});

describe('a backlog uploaded over several journal batches, with the live clock running', () => {
  it('raises the leak in it at its own time and not the steam spike the next batch cancels', async () => {
    const env = await setUp();
    const { alerting } = await start(env, false);
    // G-1 was cut off for an hour: every 30 s at 2 % LEL, a 6 s steam spike at 20:00, a leak from 40:00.
    const t0 = Date.now() - 61 * 60_000;
    const points: [number, number][] = [];
    for (let s = 0; s <= 45 * 60; s += 30) {
      points.push([t0 + s * 1000, s === 20 * 60 || s >= 40 * 60 ? 30 : 2]);
      if (s === 20 * 60) points.push([t0 + s * 1000 + 6000, 2]);
    }
    const reading = ([ts, concentration]: [number, number], i: number): AcceptedReading => ({
      deviceId: 'G-1',
      kind: 'gas_sensor',
      residentId: null,
      homeId: env.homeId,
      receivedAt: Date.now(),
      qos: 1,
      message: {
        channel: 'telemetry',
        body: { ts, seq: i + 1, gas: 'methane', concentration, unit: '%LEL' },
      },
    });
    const cut = (ts: number) => points.findIndex(([t]) => t === ts) + 1;
    const batches = [
      points.slice(0, cut(t0 + 20 * 60_000)),
      points.slice(cut(t0 + 20 * 60_000), cut(t0 + 40 * 60_000)),
      points.slice(cut(t0 + 40 * 60_000)),
    ];
    let seq = 0;
    for (const batch of batches) {
      await Promise.all(batch.map((p) => env.journal.accept(reading(p, seq++))));
      // The wall-clock tick (every second) runs between the batches.
      await new Promise((r) => setTimeout(r, 1500));
    }
    expect(await alerting.alerts.list({ residentIds: [env.residentId] })).toMatchObject([
      { ruleId: 'gas.methane', openedAt: t0 + 40 * 60_000 + 10_000, state: 'open' },
    ]);
  });
});
