// "Nothing acknowledged is lost": every reading whose PUBACK a device received is in the store after a
// kill -9 of the server, and after the InfluxDB server was away for 30 s under load, and none twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { Registry } from '../registry/index.ts';
import { waitFor } from './harness.ts';
import { startInfluxd, type Influxd } from './influxd.ts';
import { spawnAnju, type AnjuProcess } from './spawn-anju.ts';

const T0 = Date.now() - 3_600_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<AnjuProcess> {
  const server = await spawnAnju(dataDir, env);
  cleanups.push(() => server.killHard());
  return server;
}

async function registerDevices(dataDir: string, count: number) {
  const devices: { id: string; secret: string }[] = [];
  await Registry.use(dataDir, {}, async (registry) => {
    const resident = registry.addResident({
      name: 'Reliability',
      address: { community: 'R', compound: 'A', building: '1', home: '101' },
    });
    for (let i = 0; i < count; i++) {
      const id = `rel-${i}`;
      devices.push({
        id,
        secret: (await registry.addDevice({ id, kind: 'wearable', residentId: resident.id })).secret,
      });
    }
  });
  const token = await Registry.use(dataDir, {}, (r) => r.tokens.create('reliability').token);
  return { devices, token };
}

/**
 * Devices publish QoS 1 readings (ts = T0 + seq, so each reading is identifiable) until stopped; every
 * PUBACK is noted. Publishing errors (the server going away) are expected and not counted.
 */
function publishUntilStopped(port: () => number, devices: { id: string; secret: string }[]) {
  const acked = new Map<string, Set<number>>(devices.map((d) => [d.id, new Set()]));
  let running = true;
  const clients: MqttClient[] = [];
  const loops = devices.map(async (device) => {
    let seq = 0;
    while (running) {
      const client = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${port()}`, {
          clientId: device.id,
          username: device.id,
          password: device.secret,
          reconnectPeriod: 0,
          connectTimeout: 2000,
        })
        .catch(() => undefined);
      if (!client) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      clients.push(client);
      try {
        while (running && client.connected) {
          const n = seq++;
          const body = { ts: T0 + n, seq: n, heartRate: 60 + (n % 50), worn: true };
          await client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
          acked.get(device.id)!.add(T0 + n);
        }
      } catch {
        // the server went away mid-publish: that reading was not acknowledged
      }
      client.end(true);
    }
  });
  return {
    acked,
    total: () => [...acked.values()].reduce((n, s) => n + s.size, 0),
    stop: async () => {
      running = false;
      for (const c of clients) c.end(true);
      await Promise.all(loops);
    },
  };
}

async function storedTimestamps(server: AnjuProcess, token: string, deviceId: string): Promise<number[]> {
  const url = `http://127.0.0.1:${server.httpPort}/api/v1/devices/${deviceId}/readings?measurement=heartRate&from=${T0}&to=${T0 + 3_000_000}&limit=100000`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { readings: { ts: number }[] };
  return body.readings.map((r) => r.ts);
}

async function expectEveryAckedStoredOnce(
  server: AnjuProcess,
  token: string,
  acked: Map<string, Set<number>>,
) {
  for (const [deviceId, timestamps] of acked) {
    const stored = await storedTimestamps(server, token, deviceId);
    expect(new Set(stored).size).toBe(stored.length); // none twice
    const storedSet = new Set(stored);
    const missing = [...timestamps].filter((ts) => !storedSet.has(ts));
    expect(missing, `${deviceId}: acknowledged but not stored`).toEqual([]);
  }
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-rel-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('nothing acknowledged is lost', () => {
  it('keeps every acknowledged reading through kill -9 of anju serve, and stores none twice', async () => {
    const dataDir = tempDir();
    const { devices, token } = await registerDevices(dataDir, 10);
    let server = await startServer(dataDir);
    const load = publishUntilStopped(() => server.mqttPort, devices);
    await waitFor(() => load.total() >= 2000, 30_000);
    await server.killHard();
    const ackedBeforeKill = load.total();
    await load.stop();
    expect(ackedBeforeKill).toBeGreaterThanOrEqual(2000);

    server = await startServer(dataDir);
    await waitFor(async () => (await server.health()).checks.journal.detail.depth === 0, 30_000, 100);
    await expectEveryAckedStoredOnce(server, token, load.acked);
    await server.killHard();
  }, 90_000);

  it('catches up after the InfluxDB server was stopped for 30 s under load', async () => {
    const influx: Influxd = await startInfluxd();
    cleanups.push(() => influx.destroy());
    const dataDir = tempDir();
    const { devices, token } = await registerDevices(dataDir, 5);
    const server = await startServer(dataDir, { ANJU_INFLUX_URL: influx.url });
    const load = publishUntilStopped(() => server.mqttPort, devices);
    await waitFor(() => load.total() >= 500, 30_000);

    await influx.stop();
    const atOutage = load.total();
    await new Promise((r) => setTimeout(r, 30_000));
    const duringOutage = load.total() - atOutage;
    // Devices kept being acknowledged while the store was away: the journal holds their readings.
    expect(duringOutage).toBeGreaterThan(500);
    expect((await server.health()).checks.journal.detail.depth).toBeGreaterThan(0);

    await influx.start();
    await waitFor(() => load.total() >= atOutage + duringOutage + 200, 30_000);
    await load.stop();
    await waitFor(async () => (await server.health()).checks.journal.detail.depth === 0, 60_000, 200);
    await expectEveryAckedStoredOnce(server, token, load.acked);
    await server.killHard();
  }, 150_000);
});
