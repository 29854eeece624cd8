// The read API end to end: a device publishes over MQTT, the writer drains the journal to the store, and
// the API returns the readings to a bearer-token holder, and to nobody else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { addTestDevice, connectDevice, startTestAnju, waitFor, type TestAnju } from '../test/harness.ts';
import { json } from './test-support.ts';

let anju: TestAnju;
let token: string;
let device: { id: string; secret: string };
let residentId: string;
const t0 = Date.now() - 60 * 60_000; // an hour ago, one reading a minute

beforeAll(async () => {
  anju = await startTestAnju();
  token = (await anju.registry.tokens.create('test')).token;
  device = await addTestDevice(anju);
  residentId = (await anju.registry.getDevice(device.id))!.residentId!;
  const client = await connectDevice(anju, device);
  for (let i = 0; i < 60; i++) {
    const body = { ts: t0 + i * 60_000, seq: i, heartRate: 60 + (i % 10), spo2: 95 + (i % 3), worn: true };
    await client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
  }
  await client.endAsync();
  await waitFor(() => anju.journal.depth('store') === 0);
});
afterAll(async () => {
  await anju.stop();
});

interface ReadingsBody {
  every: number | null;
  readings: { ts: number; value: number }[];
  latest: { field: string; ts: number; value: number }[];
  status: number;
  title: string;
  detail: string;
}

const readingsOf = (res: Response) => json<ReadingsBody>(res);

function get(path: string, bearer: string | null = token) {
  return fetch(`http://127.0.0.1:${anju.ports.http}${path}`, {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
}

describe('GET /api/v1/devices/:id/readings', () => {
  it('returns raw readings in a time range, oldest first', async () => {
    const res = await get(
      `/api/v1/devices/${device.id}/readings?measurement=heartRate&from=${t0}&to=${t0 + 10 * 60_000}`,
    );
    expect(res.status).toBe(200);
    const body = await readingsOf(res);
    expect(body.readings).toHaveLength(10);
    expect(body.readings[0]).toEqual({ ts: t0, value: 60 });
    expect(body.readings[9]).toEqual({ ts: t0 + 9 * 60_000, value: 69 });
  });

  it('aggregates into windows with mean, min, max and last', async () => {
    const from = new Date(Math.floor(t0 / 600_000) * 600_000).toISOString();
    const q = (fn: string) =>
      get(
        `/api/v1/devices/${device.id}/readings?measurement=heartRate&from=${from}&to=${t0 + 3_600_000}&every=10m&fn=${fn}`,
      );
    const max = await readingsOf(await q('max'));
    const min = await readingsOf(await q('min'));
    expect(max.every).toBe(600_000);
    expect(max.readings.every((r) => r.value <= 69)).toBe(true);
    expect(Math.max(...max.readings.map((r) => r.value))).toBe(69);
    expect(Math.min(...min.readings.map((r) => r.value))).toBe(60);
    for (const r of max.readings) expect(r.ts % 600_000).toBe(0);
  });

  it('answers the same readings by resident', async () => {
    const res = await get(
      `/api/v1/residents/${residentId}/readings?measurement=spo2&from=${t0}&to=${t0 + 3 * 60_000}`,
    );
    expect((await readingsOf(res)).readings.map((r) => r.value)).toEqual([95, 96, 97]);
  });

  it('returns the latest value of every reading', async () => {
    const res = await get(`/api/v1/devices/${device.id}/latest`);
    const { latest } = await readingsOf(res);
    expect(latest).toEqual(
      expect.arrayContaining([
        { field: 'heartRate', ts: t0 + 59 * 60_000, value: 69 },
        { field: 'spo2', ts: t0 + 59 * 60_000, value: 97 },
      ]),
    );
  });
});

describe('refusals as RFC 9457 problem JSON', () => {
  it('needs a valid bearer token', async () => {
    for (const bearer of [null, 'anju_0000000000000000_' + 'x'.repeat(43), 'nonsense']) {
      const res = await get(`/api/v1/devices/${device.id}/latest`, bearer);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
  });

  it('refuses a revoked token at once', async () => {
    const { token: t, record } = await anju.registry.tokens.create('short-lived');
    expect((await get(`/api/v1/devices/${device.id}/latest`, t)).status).toBe(200);
    await anju.registry.tokens.revoke(record.id);
    expect((await get(`/api/v1/devices/${device.id}/latest`, t)).status).toBe(401);
  });

  it.each([
    ['no measurement', ''],
    ['a bad time', 'measurement=heartRate&from=yesterday'],
    ['from after to', `measurement=heartRate&from=${t0 + 1000}&to=${t0}`],
    ['a bad window', 'measurement=heartRate&every=5 minutes'],
    ['too many windows', `measurement=heartRate&from=0&to=${Date.now()}&every=1s`],
    ['fn without every', 'measurement=heartRate&fn=max'],
    ['an injection attempt', "measurement=heartRate'%20OR%201=1--"],
    ['an unknown parameter', 'measurement=heartRate&drop=1'],
  ])('answers %s with 400 and the problem', async (_name, query) => {
    const res = await get(`/api/v1/devices/${device.id}/readings?${query}`);
    expect(res.status).toBe(400);
    const body = await readingsOf(res);
    expect(body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(body.detail.length).toBeGreaterThan(0);
  });

  it('answers an unknown device or resident with 404', async () => {
    expect((await get('/api/v1/devices/no-such-device/readings?measurement=heartRate')).status).toBe(404);
    expect((await get('/api/v1/residents/rs_nobody/latest')).status).toBe(404);
  });

  it('serves the OpenAPI document describing the read API', async () => {
    const doc = (await (await get('/api/openapi.json', null)).json()) as {
      openapi: string;
      paths: Record<string, { get: { parameters: { name: string }[] } }>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/devices/{id}/readings', '/api/v1/residents/{id}/latest']),
    );
    const params = doc.paths['/api/v1/devices/{id}/readings']!.get.parameters.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['measurement', 'from', 'to', 'every', 'fn']));
  });
});

describe('retention', () => {
  it('keeps no reading older than --retention-days, and keeps the recent ones', async () => {
    const own = await startTestAnju({ retentionDays: 1 });
    try {
      const ownToken = (await own.registry.tokens.create('retention')).token;
      const d = await addTestDevice(own);
      const client = await connectDevice(own, d);
      const old = Date.now() - 2 * 86_400_000;
      const recent = Date.now() - 60_000;
      for (const [seq, ts] of [
        [1, old],
        [2, recent],
      ]) {
        const body = { ts, seq, heartRate: 66, worn: true };
        await client.publishAsync(topicFor(d.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
      }
      await client.endAsync();
      await waitFor(() => own.journal.depth('store') === 0);
      const res = await fetch(
        `http://127.0.0.1:${own.ports.http}/api/v1/devices/${d.id}/readings?measurement=heartRate&from=${old - 1000}`,
        { headers: { authorization: `Bearer ${ownToken}` } },
      );
      expect((await readingsOf(res)).readings).toEqual([{ ts: recent, value: 66 }]);
    } finally {
      await own.stop();
    }
  });
});
