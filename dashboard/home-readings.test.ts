// The whole home's readings for the resident page: the fixed sensors of the home (which carry no
// resident) as well as the wearable, published over real MQTT and read back through the API, for the
// resident's family and staff of the community only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from '../test/harness.ts';
import { addCommunity, json, signedIn, type Browser, type Community } from './test-support.ts';

let anju: TestAnju;
let north: Community;
let south: Community;
let family: Browser;
const t0 = Date.now() - 60 * 60_000;

interface Body {
  every: number;
  devices: {
    id: string;
    kind: string;
    room: string | null;
    wornBy: string | null;
    series: { measurement: string; type: string; readings: { ts: number; value: unknown }[] }[];
  }[];
}

async function publish(device: { id: string; secret: string }, bodies: object[]): Promise<void> {
  const client = await connectDevice(anju, device);
  let seq = 0;
  for (const body of bodies)
    await client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify({ seq: seq++, ...body }), {
      qos: 1,
    });
  await client.endAsync();
}

beforeAll(async () => {
  anju = await startTestAnju();
  north = await addCommunity(anju, 'North');
  south = await addCommunity(anju, 'South');
  const resident = north.residents[0]!;
  const band = await anju.registry.addDevice({ id: 'band-1', kind: 'wearable', residentId: resident.id });
  const kitchen = await anju.registry.addDevice({
    id: 'env-kitchen',
    kind: 'env_monitor',
    homeId: resident.homeId,
    room: 'kitchen',
  });
  const hall = await anju.registry.addDevice({
    id: 'env-hall',
    kind: 'env_monitor',
    homeId: resident.homeId,
    room: 'entrance',
  });
  // Another home's sensor must not show up.
  await anju.registry.addDevice({
    id: 'env-next-door',
    kind: 'env_monitor',
    homeId: north.residents[1]!.homeId,
  });
  await publish({ id: 'band-1', secret: band.secret }, [{ ts: t0, heartRate: 70, worn: true }]);
  // The heating fails: the kitchen cools from 20 °C by one degree every 10 minutes.
  await publish(
    { id: 'env-kitchen', secret: kitchen.secret },
    Array.from({ length: 6 }, (_, i) => ({ ts: t0 + i * 600_000, temperature: 20 - i, humidity: 50 })),
  );
  await publish({ id: 'env-hall', secret: hall.secret }, [
    { ts: t0 + 60_000, door: 'open', motion: true },
    { ts: t0 + 120_000, door: 'closed' },
  ]);
  await waitFor(() => anju.journal.depth('store') === 0);
  family = await signedIn(anju, 'family', { residents: [resident.id] });
});
afterAll(async () => {
  await anju.stop();
});

const path = (id: string, query = '') => `/api/v1/residents/${id}/devices/readings${query}`;

describe('GET /api/v1/residents/:id/devices/readings', () => {
  it("gives the family the home's room sensors with their rooms as well as the wearable", async () => {
    const res = await family.get(path(north.residents[0]!.id, `?from=${t0}&to=${t0 + 3_600_000}&every=10m`));
    expect(res.status).toBe(200);
    const body = await json<Body>(res);
    expect(body.devices.map((d) => d.id).sort()).toEqual(['band-1', 'env-hall', 'env-kitchen']);
    const kitchen = body.devices.find((d) => d.id === 'env-kitchen')!;
    expect(kitchen.room).toBe('kitchen');
    const temperature = kitchen.series.find((s) => s.measurement === 'temperature')!;
    expect(temperature.type).toBe('numeric');
    expect(temperature.readings.map((r) => r.value)).toEqual([20, 19, 18, 17, 16, 15]);
    // Only what a sensor reports is charted: the kitchen has no door contact.
    expect(kitchen.series.map((s) => s.measurement).sort()).toEqual(['humidity', 'temperature']);
    const hall = body.devices.find((d) => d.id === 'env-hall')!;
    expect(hall.series.find((s) => s.measurement === 'door')).toMatchObject({
      type: 'state',
      readings: [
        { ts: t0 + 60_000, value: 'open' },
        { ts: t0 + 120_000, value: 'closed' },
      ],
    });
    expect(body.devices.find((d) => d.id === 'band-1')!.wornBy).toBe(north.residents[0]!.id);
  });

  it('is refused to family of another resident and to staff of another community', async () => {
    const other = await signedIn(anju, 'family', { residents: [north.residents[1]!.id] });
    const southStaff = await signedIn(anju, 'staff', { communities: [south.id] });
    expect((await other.get(path(north.residents[0]!.id))).status).toBe(403);
    expect((await southStaff.get(path(north.residents[0]!.id))).status).toBe(403);
    const staff = await signedIn(anju, 'staff', { communities: [north.id] });
    expect((await staff.get(path(north.residents[0]!.id))).status).toBe(200);
  });

  it('answers out-of-range and malformed times with problem JSON, never 5xx', async () => {
    const id = north.residents[0]!.id;
    for (const query of [
      '?to=4102444800001',
      '?to=9999-12-31T00:00:00Z',
      `?from=${t0}&to=${t0 + 32 * 86_400_000}`,
      `?from=${t0}&to=${t0 - 1}`,
      '?every=1',
      `?from=${t0}&to=${t0 + 86_400_000}&every=1s`,
      '?from=yesterday',
      '?measurement=temperature',
    ]) {
      const res = await family.get(path(id, query));
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });
});
