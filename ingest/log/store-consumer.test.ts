// The store writers of two nodes on one log (a real NATS JetStream server) and one telemetry store: every
// reading stored once, also when a node dies with a batch it had not acknowledged.
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AcceptedReading } from '../../gateway/ports.ts';
import { startNatsCluster, type NatsCluster } from '../../test/nats.ts';
import { SqliteTelemetryStore } from '../store/sqlite.ts';
import { JetStreamReadingLog } from './jetstream.ts';
import { LogStoreWriter } from './store-consumer.ts';

const T0 = Date.UTC(2026, 11, 1, 2);
const logger = pino({ level: 'silent' });

let nats: NatsCluster;
let dir: string;
beforeAll(async () => {
  nats = await startNatsCluster(1);
  dir = mkdtempSync(path.join(tmpdir(), 'anju-logstore-'));
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function heartRate(device: number, seq: number): AcceptedReading {
  return {
    deviceId: `W-${device}`,
    kind: 'wearable',
    residentId: `rs_${device}`,
    homeId: `hm_${device}`,
    receivedAt: T0 + seq * 1000,
    qos: 1,
    message: {
      channel: 'telemetry',
      body: { ts: T0 + seq * 1000, seq, heartRate: 60 + (seq % 30), worn: true },
    },
  } as AcceptedReading;
}

async function storedHeartRates(store: SqliteTelemetryStore, devices: number): Promise<number> {
  let n = 0;
  for (let d = 0; d < devices; d++)
    n += (await store.query({ deviceId: `W-${d}`, field: 'heartRate', from: T0, to: T0 + 86_400_000 }))
      .length;
  return n;
}

it("stores every reading once across two nodes, and a dead node's unacknowledged batch on the other", async () => {
  const log = await JetStreamReadingLog.connect({
    servers: nats.urls,
    stream: 'STORE',
    subjectPrefix: 'store',
    partitions: 4,
    replicas: 1,
  });
  const store = new SqliteTelemetryStore({ dataDir: dir });
  try {
    const devices = 5;
    for (let seq = 1; seq <= 40; seq++) for (let d = 0; d < devices; d++) await log.accept(heartRate(d, seq));

    // Node A takes a batch and dies before writing or acknowledging it.
    const dying = await log.shared('store-writer', 1_000);
    const lost = await dying.next(50, 500);
    expect(lost.length).toBe(50);

    const a = new LogStoreWriter({
      consumer: await log.shared('store-writer', 1_000),
      store,
      logger,
      batchSize: 30,
    });
    const b = new LogStoreWriter({
      consumer: await log.shared('store-writer', 1_000),
      store,
      logger,
      batchSize: 30,
    });
    a.start();
    b.start();
    await expect.poll(() => a.written + b.written, { timeout: 20_000 }).toBe(200);
    expect(a.written).toBeGreaterThan(0);
    expect(b.written).toBeGreaterThan(0);
    await Promise.all([a.stop(), b.stop()]);
    expect(await storedHeartRates(store, devices)).toBe(200);
  } finally {
    await store.close();
    await log.close();
  }
});
