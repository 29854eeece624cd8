// The store writer against real stores: it drains the journal, drops what a store can never take without
// blocking the rest, and retries a store that is away until it returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { startInfluxd, type Influxd } from '../test/influxd.ts';
import { waitFor } from '../test/harness.ts';
import { Journal } from './journal.ts';
import { InfluxTelemetryStore } from './store/influx.ts';
import { SqliteTelemetryStore } from './store/sqlite.ts';
import type { TelemetryStore } from './store/types.ts';
import { StoreWriter } from './store-writer.ts';

const T0 = Date.now() - 600_000;
const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let influx: Influxd;
beforeAll(async () => {
  influx = await startInfluxd();
});
afterAll(async () => {
  await influx.destroy();
});

function reading(seq: number, heartRate: unknown): AcceptedReading {
  return {
    deviceId: 'wb-writer',
    kind: 'wearable',
    residentId: 'rs_writer',
    homeId: null,
    receivedAt: T0 + seq,
    qos: 1,
    message: { channel: 'telemetry', body: { ts: T0 + seq * 1000, seq, heartRate, worn: true } as never },
  };
}

function setup(store: TelemetryStore, options: { minBackoffMs?: number } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-writer-'));
  const journal = new Journal({ path: path.join(dir, 'journal.db') });
  const writer = new StoreWriter({
    journal,
    store,
    logger: silent,
    metrics: new MetricsRegistry(),
    idleMs: 10,
    ...options,
  });
  cleanups.push(async () => {
    await writer.stop();
    await journal.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { journal, writer, dir };
}

const backends: [string, () => TelemetryStore][] = [
  [
    'sqlite',
    () => new SqliteTelemetryStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'anju-writer-store-')) }),
  ],
  ['influxdb', () => new InfluxTelemetryStore({ url: influx.url, database: `writer_${Date.now()}` })],
];

describe.each(backends)('store writer on %s', (_name, makeStore) => {
  it('drops a point the store refuses and stores the rest of its batch and the batches after it', async () => {
    const store = makeStore();
    const { journal, writer } = setup(store);
    await journal.accept(reading(1, 70));
    await journal.accept(reading(2, 'seventy')); // a field whose type differs from the stored one
    await journal.accept(reading(3, 72));
    writer.start();
    await waitFor(() => journal.depth('store') === 0);
    await journal.accept(reading(4, 74));
    await waitFor(() => journal.depth('store') === 0);
    const stored = await store.query({
      deviceId: 'wb-writer',
      field: 'heartRate',
      from: T0,
      to: T0 + 10_000,
    });
    expect(stored).toEqual([
      { ts: T0 + 1000, value: 70 },
      { ts: T0 + 3000, value: 72 },
      { ts: T0 + 4000, value: 74 },
    ]);
  });
});

describe('store writer and an unreachable store', () => {
  it('keeps readings in the journal while the store is away and writes them all when it returns', async () => {
    const store = new InfluxTelemetryStore({ url: influx.url, database: 'writer_outage' });
    const { journal, writer } = setup(store, { minBackoffMs: 50 });
    writer.start();
    await journal.accept(reading(1, 70));
    await waitFor(() => journal.depth('store') === 0, 10_000);
    await influx.stop();
    for (let seq = 2; seq <= 50; seq++) await journal.accept(reading(seq, 60 + seq));
    await new Promise((r) => setTimeout(r, 500));
    expect(journal.depth('store')).toBe(49);
    expect(writer.status()).toMatchObject({ retrying: true });
    await influx.start();
    await waitFor(() => journal.depth('store') === 0, 20_000, 50);
    const stored = await store.query({
      deviceId: 'wb-writer',
      field: 'heartRate',
      from: T0,
      to: T0 + 60_000,
    });
    expect(stored).toHaveLength(50);
  });
});
