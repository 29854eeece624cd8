import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedInfluxdUrl, startInfluxd, type Influxd } from '../../test/influxd.ts';
import { describeTelemetryStore, numberedReading } from './conformance.ts';
import { InfluxTelemetryStore, type InfluxStoreOptions } from './influx.ts';
import { RefusedPointsError, type Point } from './types.ts';

const server = { url: sharedInfluxdUrl() };

describeTelemetryStore('InfluxDB 1.x (real influxd)', () => ({
  open: async (name, options) => new InfluxTelemetryStore({ url: server.url, database: name, ...options }),
}));

/** Asks the server directly, to see what the store left there. */
async function influxql(q: string, method: 'GET' | 'POST' = 'GET'): Promise<unknown[][]> {
  const res = await fetch(`${server.url}/query?${new URLSearchParams({ q, epoch: 'ms' })}`, { method });
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(body.results[0].error);
  return body.results[0]?.series?.[0]?.values ?? [];
}

const HOUR = 3_600_000;
let databases = 0;
const stores: InfluxTelemetryStore[] = [];
function openStore(options: Partial<InfluxStoreOptions> = {}): InfluxTelemetryStore {
  const store = new InfluxTelemetryStore({ url: server.url, database: `influx_${++databases}`, ...options });
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const now = Date.now();
const reading = (i: number, fields?: Point['fields']): Point => numberedReading(now, i, fields);

describe('InfluxDB store on a server it manages', () => {
  it('creates its database with a default retention policy of the configured length on first use', async () => {
    const store = openStore({ database: 'managed', retentionMs: 48 * HOUR });
    await store.write([reading(0)]);
    const policies = await influxql('SHOW RETENTION POLICIES ON "managed"');
    // name, duration, shard group duration, replicas, default
    expect(policies).toContainEqual(['anju', '48h0m0s', '24h0m0s', 1, true]);
  });

  it('changes the retention policy when restarted with another retention', async () => {
    await openStore({ database: 'altered', retentionMs: 48 * HOUR }).write([reading(0)]);
    await openStore({ database: 'altered' }).write([reading(1)]);
    expect(await influxql('SHOW RETENTION POLICIES ON "altered"')).toContainEqual([
      'anju',
      '0s',
      '168h0m0s',
      1,
      true,
    ]);
  });

  it('writes a large batch in several requests and finds the few points InfluxDB refuses', async () => {
    const store = openStore({ batchSize: 100 });
    await store.write([reading(0)]);
    const batch = Array.from({ length: 1000 }, (_, i) =>
      i === 123 || i === 877 ? reading(i, { heartRate: 'irregular' }) : reading(i),
    );
    const error = await store.write(batch).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RefusedPointsError);
    expect((error as RefusedPointsError).refused.map((r) => r.index)).toEqual([123, 877]);
    expect((error as RefusedPointsError).refused[0]!.reason).toMatch(/field type conflict/);
    expect((error as RefusedPointsError).stored).toBe(998);
    const rows = await store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now });
    expect(rows).toHaveLength(998);
  });
});

describe('InfluxDB store on a database an administrator provides (2.x/3.x style)', () => {
  it('reads and writes through the given database and retention policy without creating either', async () => {
    await influxql('CREATE DATABASE "provided"', 'POST');
    await influxql('CREATE RETENTION POLICY "mapped" ON "provided" DURATION 30d REPLICATION 1', 'POST');
    const store = openStore({ database: 'provided', retentionPolicy: 'mapped', manageDatabase: false });
    await store.write([reading(0), reading(1)]);
    expect(
      await store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now }),
    ).toHaveLength(2);
    expect(await influxql('SELECT count("heartRate") FROM "provided"."mapped"."wearable"')).toEqual([[0, 2]]);
    expect((await influxql('SHOW RETENTION POLICIES ON "provided"')).map((p) => p[0])).toEqual([
      'autogen',
      'mapped',
    ]);
  });

  it('fails a write to a database that does not exist as an outage, not as refused points', async () => {
    const store = openStore({ database: 'missing', manageDatabase: false });
    const error = await store.write([reading(0)]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RefusedPointsError);
    expect((error as Error).message).toMatch(/database not found/);
  });
});

describe('InfluxDB store through an outage', () => {
  let own: Influxd;
  beforeAll(async () => {
    own = await startInfluxd();
  });
  afterAll(async () => {
    await own?.destroy();
  });

  it('fails writes as an outage while the server is down, and works again with its data once it is back', async () => {
    const store = new InfluxTelemetryStore({ url: own.url, database: 'outage', timeoutMs: 2_000 });
    stores.push(store);
    await store.write([reading(0)]);
    await own.stop();

    const during = await store.write([reading(1)]).catch((err: unknown) => err);
    expect(during).toBeInstanceOf(Error);
    expect(during).not.toBeInstanceOf(RefusedPointsError);
    expect(await store.health()).toMatchObject({ ok: false, backend: 'influxdb' });
    await expect(
      store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now }),
    ).rejects.toThrow();

    await own.start();
    expect(await store.health()).toMatchObject({ ok: true });
    await store.write([reading(1)]);
    const rows = await store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now });
    expect(rows.map((r) => r.ts)).toEqual([reading(0).ts, reading(1).ts]);
  });
});
