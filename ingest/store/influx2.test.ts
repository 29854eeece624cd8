// The InfluxDB v2 write API store. InfluxDB 2.x cannot run here, so its v2-only API is played by a local
// server that follows InfluxData's API reference (test/influx2-contract.ts); everything it is given to
// store or read is forwarded to a real influxd 1.6.7, so storage and InfluxQL answers are real.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AcceptedReading } from '../../firmware-protocol/accepted.ts';
import { waitFor } from '../../test/harness.ts';
import {
  startInfluxV2Contract,
  startInfluxV2ContractAroundTests,
  type InfluxV2Contract,
} from '../../test/influx2-contract.ts';
import { freePort, sharedInfluxdUrl } from '../../test/influxd.ts';
import { Journal } from '../journal.ts';
import { StoreWriter, STORE_CURSOR } from '../store-writer.ts';
import { AWKWARD_IDS, describeTelemetryStore, numberedReading } from './conformance.ts';
import { InfluxTelemetryStore } from './influx.ts';
import { Influx2TelemetryStore, type Influx2StoreOptions } from './influx2.ts';
import { InfluxAuthError } from './influx2-write.ts';
import { toLine } from './line-protocol.ts';
import { RefusedPointsError, type Point } from './types.ts';

const influxd = { url: sharedInfluxdUrl() };
let contract: InfluxV2Contract;
startInfluxV2ContractAroundTests({ influxdUrl: influxd.url }, (started) => (contract = started));

describeTelemetryStore('InfluxDB v2 write API (contract server over a real influxd 1.6.7)', () => ({
  open: async (name, options) => {
    await contract.createBucket(name);
    return new Influx2TelemetryStore({
      url: contract.url,
      org: contract.org,
      bucket: name,
      token: contract.token,
      ...options,
    });
  },
}));

const HOUR = 3_600_000;
const now = Date.now();
let buckets = 0;
const stores: Influx2TelemetryStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function openStore(options: Partial<Influx2StoreOptions> = {}) {
  const bucket = `v2_${++buckets}`;
  await contract.createBucket(bucket);
  const store = new Influx2TelemetryStore({
    url: contract.url,
    org: contract.org,
    bucket,
    token: contract.token,
    ...options,
  });
  stores.push(store);
  return { store, bucket, writes: () => contract.writes.filter((w) => w.params.get('bucket') === bucket) };
}

const reading = (i: number, fields?: Point['fields']): Point => numberedReading(now, i, fields);

/** What the real influxd holds, asked directly (not through the store). */
async function influxql(db: string, q: string): Promise<unknown[][]> {
  const res = await fetch(`${influxd.url}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`);
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(body.results[0].error);
  return body.results[0]?.series?.flatMap((s) => s.values) ?? [];
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('the request the client sends', () => {
  it('is gzipped line protocol with ms precision, the org, the bucket and the token, one request a batch', async () => {
    const { store, bucket, writes } = await openStore();
    const points = [reading(0), reading(1), reading(2)];
    await store.write(points);
    expect(writes()).toHaveLength(1);
    const [sent] = writes();
    expect(sent!.contentEncoding).toBe('gzip');
    expect(Object.fromEntries(sent!.params)).toEqual({ org: contract.org, bucket, precision: 'ms' });
    expect(sent!.authorization).toBe(`Token ${contract.token}`);
    expect(sent!.lines).toEqual(points.map(toLine));
    expect(sent!.status).toBe(204);
  });

  it('is accepted and stored as sent by the real influxd 1.6.7, awkward ids and strings included', async () => {
    const { store, bucket } = await openStore();
    const points = AWKWARD_IDS.map((id, i) => ({
      ...reading(i, { note: `note "${id}" \\ end\\`, level: i }),
      measurement: 'event' as const,
      tags: { deviceId: id, type: 'sos' },
    }));
    await store.write(points);
    // Read straight from influxd: the client's body went through its /write untouched.
    const rows = await influxql(bucket, 'SELECT "level", "note", "seq" FROM "event" ORDER BY time');
    expect(rows).toEqual(points.map((p) => [p.ts, p.fields.level, p.fields.note, p.seq]));
  });
});

describe('answers of the v2 write API', () => {
  it('400/422: drops and names only the refused points and keeps the rest', async () => {
    const { store, bucket } = await openStore();
    await store.write([reading(0)]);
    const batch = Array.from({ length: 40 }, (_, i) =>
      i === 7 || i === 31 ? reading(i + 1, { heartRate: 'irregular' }) : reading(i + 1),
    );
    const error = await failure(store.write(batch));
    expect(error).toBeInstanceOf(RefusedPointsError);
    expect((error as RefusedPointsError).refused.map((r) => r.index)).toEqual([7, 31]);
    expect((error as RefusedPointsError).refused[0]!.reason).toMatch(/field type conflict/);
    expect((error as RefusedPointsError).stored).toBe(38);
    expect(await influxql(bucket, 'SELECT count("heartRate") FROM "wearable"')).toEqual([[0, 39]]);
  });

  it('400 that rejected the whole batch (2.x: first malformed line) loses none of the good points', async () => {
    const { store, bucket, writes } = await openStore();
    contract.script({
      status: 400,
      body: { code: 'invalid', message: "unable to parse 'x': missing fields" },
    });
    await store.write([reading(1), reading(2), reading(3)]);
    expect(writes().map((w) => w.status)).toEqual([400, 204, 204]);
    expect(await influxql(bucket, 'SELECT count("heartRate") FROM "wearable"')).toEqual([[0, 3]]);
  });

  it('413: splits the batch until it fits, and refuses only a single point that never fits', async () => {
    const small = await startInfluxV2Contract({ influxdUrl: influxd.url, maxBodyBytes: 4_000 });
    try {
      await small.createBucket('v2_small');
      const store = new Influx2TelemetryStore({
        url: small.url,
        org: small.org,
        bucket: 'v2_small',
        token: small.token,
      });
      stores.push(store);
      const big = reading(99, { note: 'x'.repeat(4_090) }); // one line beyond the server's 4,000 bytes
      const batch = [...Array.from({ length: 60 }, (_, i) => reading(i)), big];
      const error = await failure(store.write(batch));
      expect((error as RefusedPointsError).refused).toEqual([
        { index: 60, reason: expect.stringMatching(/too large/) },
      ]);
      expect(small.writes.filter((w) => w.status === 413).length).toBeGreaterThan(1);
      expect(small.writes.every((w) => w.status === 413 || w.lines.join('\n').length <= 4_000)).toBe(true);
      expect(await influxql('v2_small', 'SELECT count("heartRate") FROM "wearable"')).toEqual([[0, 60]]);
    } finally {
      await small.close();
    }
  });

  it('401/403: a clear error without the token, health degraded, nothing dropped, healthy after a 204', async () => {
    const { store, bucket } = await openStore();
    for (const status of [401, 403]) {
      contract.script({
        status,
        body: { code: status === 401 ? 'unauthorized' : 'forbidden', message: 'no' },
      });
      const error = await failure(store.write([reading(1)]));
      expect(error).toBeInstanceOf(InfluxAuthError);
      expect((error as Error).message).toMatch(new RegExp(`${status}.*ANJU_INFLUX_TOKEN.*"${bucket}"`));
      expect((error as Error).message).not.toContain(contract.token);
      expect(await store.health()).toMatchObject({ ok: false, error: (error as Error).message });
    }
    await store.write([reading(1)]);
    expect(await store.health()).toMatchObject({ ok: true });
    expect(await influxql(bucket, 'SELECT "heartRate" FROM "wearable"')).toEqual([[reading(1).ts, 61]]);
  });

  it('a wrong token is refused by the server itself and reported the same way', async () => {
    const { bucket } = await openStore();
    const store = new Influx2TelemetryStore({ url: contract.url, org: contract.org, bucket, token: 'wrong' });
    stores.push(store);
    await expect(store.write([reading(1)])).rejects.toThrow(InfluxAuthError);
    expect((await store.health()).ok).toBe(false);
  });

  it('429 with Retry-After: waits the seconds asked, resends the same lines, and only then goes on', async () => {
    const { store, writes } = await openStore();
    contract.script({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { code: 'too many requests', message: 'slow down' },
    });
    const first = [reading(1), reading(2)];
    await store.write(first);
    await store.write([reading(3)]);
    const sent = writes();
    expect(sent.map((w) => w.status)).toEqual([429, 204, 204]);
    expect(sent[1]!.lines).toEqual(sent[0]!.lines);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(950);
    expect(sent[2]!.lines).toEqual([toLine(reading(3))]);
  });

  it('503 asking for longer than a write may wait: fails the write, sends nothing early, works once allowed', async () => {
    const { store, writes } = await openStore({ maxRetryWaitMs: 300 });
    contract.script({ status: 503, headers: { 'retry-after': '1' } });
    const error = await failure(store.write([reading(1)]));
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RefusedPointsError);
    await expect(store.write([reading(1)])).rejects.toThrow(/wait/);
    expect(writes()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_000));
    await store.write([reading(1)]);
    expect(writes().map((w) => w.status)).toEqual([503, 204]);
  });

  it('503 with "Retry-After: 0" again and again ends the write instead of resending in a loop', async () => {
    const { store, writes } = await openStore({ maxRetryWaitMs: 200 });
    const answers = Array.from({ length: 500 }, () => ({ status: 503, headers: { 'retry-after': '0' } }));
    contract.script(...answers);
    try {
      await expect(store.write([reading(1)])).rejects.toThrow(/wait/);
      expect(writes().length).toBeGreaterThan(1);
      expect(writes().length).toBeLessThan(500);
    } finally {
      contract.clearScript();
    }
  });

  it('a success other than 204 (the client accepts 201) counts nothing as stored', async () => {
    const { store, writes } = await openStore();
    contract.script({ status: 201 });
    const error = await failure(store.write([reading(1)]));
    expect((error as Error).message).toMatch(/201.*not 204/);
    expect(error).not.toBeInstanceOf(RefusedPointsError);
    await store.write([reading(1)]);
    expect(writes().map((w) => w.status)).toEqual([201, 204]);
  });

  it('ends a wait for Retry-After at once when the store is closed', async () => {
    const { store } = await openStore();
    contract.script({ status: 429, headers: { 'retry-after': '30' } });
    const started = Date.now();
    const pending = failure(store.write([reading(1)]));
    await waitFor(() => contract.writes.at(-1)?.status === 429);
    await store.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('404 for a bucket that does not exist, and network errors: outages, not refused points', async () => {
    const missing = new Influx2TelemetryStore({
      url: contract.url,
      org: contract.org,
      bucket: 'nope',
      token: contract.token,
    });
    stores.push(missing);
    const notFound = await failure(missing.write([reading(1)]));
    expect(notFound).not.toBeInstanceOf(RefusedPointsError);
    expect((notFound as Error).message).toMatch(/404.*bucket "nope" not found/);
    const away = new Influx2TelemetryStore({
      url: `http://127.0.0.1:${await freePort()}`,
      org: 'o',
      bucket: 'b',
      token: 't',
    });
    stores.push(away);
    const refused = await failure(away.write([reading(1)]));
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(RefusedPointsError);
    expect((await away.health()).ok).toBe(false);
  });
});

describe('reads through InfluxQL /query', () => {
  it('creates the DBRP mapping the bucket needs on first read, once', async () => {
    const { store, bucket } = await openStore();
    await store.write([reading(1)]);
    expect(contract.dbrps.filter((m) => m.database === bucket)).toEqual([]);
    const q = { deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now };
    expect(await store.query(q)).toEqual([{ ts: reading(1).ts, value: 61 }]);
    expect(contract.dbrps.filter((m) => m.database === bucket)).toEqual([
      expect.objectContaining({ database: bucket, retention_policy: 'autogen', default: true }),
    ]);
    const again = new Influx2TelemetryStore({
      url: contract.url,
      org: contract.org,
      bucket,
      token: contract.token,
    });
    stores.push(again);
    expect(await again.latest({ deviceId: 'wb-1' })).toEqual([
      { field: 'heartRate', ts: reading(1).ts, value: 61 },
    ]);
    expect(contract.dbrps.filter((m) => m.database === bucket)).toHaveLength(1);
  });

  it('on a server without the DBRP API (3.x, 1.8) reads the database by name and creates nothing', async () => {
    const v3 = await startInfluxV2Contract({ influxdUrl: influxd.url, flavour: '3.x' });
    try {
      await v3.createBucket('v3_db');
      const store = new Influx2TelemetryStore({ url: v3.url, org: '-', bucket: 'v3_db', token: v3.token });
      stores.push(store);
      await store.write([reading(1)]);
      const q = { deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now };
      expect(await store.query(q)).toEqual([{ ts: reading(1).ts, value: 61 }]);
      expect(v3.dbrps).toEqual([]);
    } finally {
      await v3.close();
    }
  });

  it('without a mapping (manageDbrp off) the server cannot answer InfluxQL for the bucket', async () => {
    const { store } = await openStore({ manageDbrp: false });
    await store.write([reading(1)]);
    await expect(
      store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now }),
    ).rejects.toThrow(/database not found/);
  });
});

describe('store writer on the v2 write API', () => {
  function accepted(seq: number): AcceptedReading {
    return {
      deviceId: 'wb-writer',
      kind: 'wearable',
      residentId: 'rs_writer',
      homeId: null,
      receivedAt: now + seq,
      qos: 1,
      message: { channel: 'telemetry', body: { ts: now - HOUR + seq * 1000, seq, heartRate: 70 } as never },
    };
  }

  it('advances the journal only after a 204: not on 401, 503 or 500, and never logs the token', async () => {
    const bucket = `v2_${++buckets}`;
    await contract.createBucket(bucket);
    const writes = () => contract.writes.filter((w) => w.params.get('bucket') === bucket);
    const logged: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void logged.push(line) });
    const { url, org, token } = contract;
    const store = new Influx2TelemetryStore({ url, org, bucket, token, maxRetryWaitMs: 0 }, logger);
    stores.push(store);
    const dir = mkdtempSync(path.join(tmpdir(), 'anju-influx2-writer-'));
    const journal = new Journal({ path: path.join(dir, 'journal.db') });
    const writer = new StoreWriter({
      journal,
      store,
      logger,
      metrics: new MetricsRegistry(),
      idleMs: 10,
      minBackoffMs: 20,
      maxBackoffMs: 50,
    });
    // The journal position as each request arrives: what the writer made of the answer before it.
    const cursors: number[] = [];
    contract.onWrite = () => cursors.push(journal.cursor(STORE_CURSOR));
    try {
      contract.script(
        { status: 401, body: { code: 'unauthorized', message: 'unauthorized access' } },
        { status: 503, headers: { 'retry-after': '0' } },
        { status: 500, body: { code: 'internal error', message: 'boom' } },
      );
      for (let seq = 1; seq <= 5; seq++) await journal.accept(accepted(seq));
      const last = journal.readAfter(0, 10).at(-1)!.id;
      writer.start();
      await waitFor(() => journal.cursor(STORE_CURSOR) === last, 10_000);
      expect(writes().map((w) => w.status)).toEqual([401, 503, 500, 204]);
      expect(cursors).toEqual([0, 0, 0, 0]);
      expect(logged.join('\n')).toMatch(/ANJU_INFLUX_TOKEN/); // the 401 was logged, without the token:
      expect(logged.join('\n')).not.toContain(token);
      expect(await influxql(bucket, 'SELECT count("heartRate") FROM "wearable"')).toEqual([[0, 5]]);
    } finally {
      contract.onWrite = undefined;
      await writer.stop();
      await journal.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the 1.x store with an API token (2.x v1 compatibility API)', () => {
  it('writes and reads with `Authorization: Token` instead of a user name and password', async () => {
    const { store: v2, bucket } = await openStore();
    await v2.write([reading(0)]);
    await v2.latest({ deviceId: 'wb-1' }); // the first read creates the DBRP mapping

    const store = new InfluxTelemetryStore({
      url: contract.url,
      database: bucket,
      token: contract.token,
      manageDatabase: false,
    });
    try {
      await store.write([reading(1)]);
      const rows = await store.query({ deviceId: 'wb-1', field: 'heartRate', from: now - 2 * HOUR, to: now });
      expect(rows.map((r) => r.ts)).toEqual([reading(0).ts, reading(1).ts]);
      const wrong = new InfluxTelemetryStore({
        url: contract.url,
        database: bucket,
        token: 'wrong',
        manageDatabase: false,
      });
      await expect(wrong.write([reading(2)])).rejects.toThrow(/401/);
      await expect(wrong.latest({ deviceId: 'wb-1' })).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
