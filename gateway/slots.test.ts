// Connection slots that cannot be squatted: one address that keeps opening sockets and never sends
// CONNECT must not lock out the real devices behind the same address (a NAT), over real TCP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { addTestDevice, connectDevice, startTestAnju, waitFor, type TestAnju } from '../test/harness.ts';
import { RawConnection } from '../test/raw-mqtt.ts';
import { spawnAnju } from '../test/spawn-anju.ts';
import { useRegistry } from '../cli/open-registry.ts';

let anju: TestAnju | undefined;
const opened: RawConnection[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  await anju?.stop();
  anju = undefined;
});

async function silentSocket(port: number): Promise<RawConnection> {
  const conn = new RawConnection(port);
  opened.push(conn);
  await conn.opened;
  return conn;
}

async function refusedCount(reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${anju!.ports.http}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`anju_mqtt_connect_refused_total{reason="${reason}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('CONNECT timeout', () => {
  it('closes a socket that sends nothing after 3 s by default', async () => {
    anju = await startTestAnju();
    const silent = await Promise.all([1, 2, 3].map(() => silentSocket(anju!.ports.mqtt)));
    const started = performance.now();
    const closedAfter = (await Promise.all(silent.map((c) => c.closed))).map((t) => t - started);
    for (const ms of closedAfter) {
      expect(ms).toBeGreaterThan(2_900);
      expect(ms).toBeLessThan(4_500);
    }
    expect(await refusedCount('connect_timeout')).toBe(3);
  });
});

describe('silent connections from one address', () => {
  it('lets real devices in while one client keeps the address full of silent sockets', async () => {
    anju = await startTestAnju({ maxConnectionsPerAddress: 40, maxSilentPerAddress: 10 });
    const port = anju.ports.mqtt;
    // The squatter opens 40 sockets and reopens each one the moment the gateway closes it.
    let squatting = true;
    const squat = async (): Promise<void> => {
      while (squatting) await (await silentSocket(port)).closed;
    };
    const squatters = Array.from({ length: 40 }, () => squat());
    await waitFor(() => opened.filter((c) => !c.isClosed).length >= 40);

    const devices: MqttClient[] = [];
    for (let i = 0; i < 3; i++) {
      const device = await addTestDevice(anju);
      const client = await connectDevice(anju, device);
      await client.publishAsync(
        topicFor(device.id, 'telemetry'),
        JSON.stringify({ ts: Date.now(), seq: 1, worn: true }),
        {
          qos: 1,
        },
      );
      devices.push(client);
    }
    // The squatter goes on past the grace of its sockets; the devices that authenticated stay.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(devices.every((c) => c.connected)).toBe(true);
    expect(await refusedCount('silent_displaced')).toBeGreaterThanOrEqual(3);

    squatting = false;
    for (const c of opened) c.close();
    await Promise.all(squatters);
    await Promise.all(devices.map((c) => c.endAsync()));
  });

  it('keeps at most the bound of silent sockets per address once they have had a second to speak', async () => {
    anju = await startTestAnju({ maxSilentPerAddress: 5, connectTimeoutS: 10 });
    const first = [];
    for (let i = 0; i < 12; i++) first.push(await silentSocket(anju.ports.mqtt));
    await new Promise((r) => setTimeout(r, 1_200));
    expect(first.every((c) => !c.isClosed)).toBe(true); // nothing is closed before a newcomer needs room
    const newcomer = await silentSocket(anju.ports.mqtt);
    await Promise.all(first.slice(0, 8).map((c) => c.closed)); // the 8 oldest make room ...
    await new Promise((r) => setTimeout(r, 100));
    expect(first.slice(8).every((c) => !c.isClosed)).toBe(true); // ... the 4 youngest and the newcomer stay
    expect(newcomer.isClosed).toBe(false);
    expect(await refusedCount('silent_per_address')).toBe(8);
  });

  it('`anju serve` with 5 silent connections allowed lets in a burst of 20 devices from one address; its CONNECT timeout comes from the environment', async () => {
    // A real process, paused while 20 devices connect at once (a power cut ends; a long GC pause), so
    // that all 20 wait in the accept queue with their CONNECTs behind them.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-burst-'));
    const devices = await useRegistry(dataDir, {}, async (registry) => {
      const resident = await registry.addResident({
        name: 'Burst',
        address: { community: 'Burst', compound: 'A', building: '1', home: '101' },
      });
      return Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const id = `burst-${i}`;
          return { id, ...(await registry.addDevice({ id, kind: 'wearable', residentId: resident.id })) };
        }),
      );
    });
    const server = await spawnAnju(dataDir, { ANJU_MAX_SILENT_PER_ADDRESS: '5', ANJU_CONNECT_TIMEOUT: '1' });
    try {
      server.proc.kill('SIGSTOP');
      const connecting = devices.map((d) =>
        mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
          clientId: d.id,
          username: d.id,
          password: d.secret,
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      server.proc.kill('SIGCONT');
      const clients = await Promise.all(connecting);
      expect(clients.every((c) => c.connected)).toBe(true);
      await Promise.all(clients.map((c) => c.endAsync()));
      // `anju serve` takes its CONNECT timeout from the environment too.
      const silent = await silentSocket(server.mqttPort);
      const started = performance.now();
      expect((await silent.closed) - started).toBeLessThan(2_000);
    } finally {
      server.proc.kill('SIGCONT');
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
