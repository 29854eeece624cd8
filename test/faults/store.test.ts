// The telemetry store (a real influxd) taken away under load (issue 17): killed with SIGKILL and started
// again, and frozen with SIGSTOP (its connections stay open and answer nothing) then thawed. Anju keeps
// acknowledging readings into its journal, reports the store as failing on /healthz within the probe's
// 2 s bound, catches up by itself, and stores every acknowledged reading once.
import { afterEach, describe, expect, it } from 'vitest';
import { startInfluxd, type Influxd } from '../influxd.ts';
import {
  alive,
  cleanupList,
  expectEveryAckedStoredOnce,
  health,
  startUnderLoad,
  waitFor,
  type AnjuProcess,
} from './support.ts';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

async function setUp() {
  const influx: Influxd = await startInfluxd();
  cleanups.add(() => influx.destroy());
  const { server, token, load } = await startUnderLoad(cleanups, {
    devices: 3,
    env: { ANJU_INFLUX_URL: influx.url },
  });
  await waitFor(() => load.total() >= 300, 30_000);
  return { influx, server, token, load };
}

/** /healthz answers within the probe bound and says the store is failing. */
async function expectStoreReportedDown(server: AnjuProcess): Promise<void> {
  await waitFor(
    async () => {
      const started = Date.now();
      const h = await health(server);
      expect(Date.now() - started).toBeLessThan(3000);
      return h.status === 'degraded' && h.checks.store?.ok === false;
    },
    15_000,
    200,
  );
}

describe('telemetry store faults', () => {
  it('keeps acknowledging while influxd is killed -9, and catches up after it is started again', async () => {
    const { influx, server, token, load } = await setUp();
    await influx.signal('SIGKILL');
    const atKill = load.total();
    await expectStoreReportedDown(server);
    // The writer's failures are a failing write path: storage says so too.
    await waitFor(
      async () => ((await health(server)).checks.storage?.detail?.failing as string[]).includes('store'),
      15_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 3000));
    // The journal holds what the store cannot take; devices are still acknowledged.
    expect(load.total() - atKill).toBeGreaterThan(100);
    expect(alive(server)).toBe(true);

    await influx.start();
    await waitFor(async () => (await health(server)).status === 'ok', 30_000, 200);
    await load.stop();
    await expectEveryAckedStoredOnce(server, token, load.acked);
  }, 120_000);

  // 15 s rather than the 30 s of the issue: longer than the store's 10 s request timeout, so a write
  // stuck on the frozen server times out and is retried; another 15 s would exercise nothing new.
  it('keeps acknowledging and answers /healthz while influxd is frozen with SIGSTOP for 15 s', async () => {
    const { influx, server, token, load } = await setUp();
    await influx.signal('SIGSTOP');
    cleanups.add(() => influx.signal('SIGCONT'));
    const atStop = load.total();
    await expectStoreReportedDown(server);
    await new Promise((r) => setTimeout(r, 15_000));
    expect(load.total() - atStop).toBeGreaterThan(300);
    expect((await health(server)).checks.journal?.detail?.depth).toBeGreaterThan(0);
    expect(alive(server)).toBe(true);

    await influx.signal('SIGCONT');
    await waitFor(async () => (await health(server)).status === 'ok', 30_000, 200);
    await load.stop();
    await expectEveryAckedStoredOnce(server, token, load.acked);
  }, 120_000);
});
