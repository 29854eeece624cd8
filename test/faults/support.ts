// What every fault-injection case needs: a real `anju serve` child process, devices registered in its
// registry, real MQTT clients publishing QoS 1 readings and noting every PUBACK, and the check that each
// acknowledged reading is stored once. Each reading's ts is T0 + its seq, so each is identifiable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { topicFor } from '../../firmware-protocol/index.ts';
import { useRegistry } from '../../cli/open-registry.ts';
import { waitFor } from '../harness.ts';
import { spawnAnju, type AnjuProcess } from '../spawn-anju.ts';

/** An hour ago: inside the gateway's clock window however the faults move the server's clock. */
export const T0 = Date.now() - 3_600_000;

export interface Health {
  status: 'ok' | 'warning' | 'degraded';
  checks: Record<string, { ok: boolean; warning?: string; detail?: Record<string, unknown> }>;
}

export interface Device {
  id: string;
  secret: string;
}

export type Cleanups = ReturnType<typeof cleanupList>;

/** Cleanups run in reverse order after each test, also when it failed. */
export function cleanupList() {
  const cleanups: (() => Promise<void> | void)[] = [];
  return {
    add: (cleanup: () => Promise<void> | void) => cleanups.push(cleanup),
    run: async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}

export function tempDir(prefix = 'anju-fault-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function registerDevices(dataDir: string, count: number) {
  const devices: Device[] = [];
  await useRegistry(dataDir, {}, async (registry) => {
    const resident = await registry.addResident({
      name: 'Fault',
      address: { community: 'F', compound: 'A', building: '1', home: '101' },
    });
    for (let i = 0; i < count; i++) {
      const id = `fault-${i}`;
      devices.push({
        id,
        secret: (await registry.addDevice({ id, kind: 'wearable', residentId: resident.id })).secret,
      });
    }
  });
  const token = await useRegistry(dataDir, {}, async (r) => (await r.tokens.create('faults')).token);
  return { devices, token };
}

export async function health(server: AnjuProcess): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/healthz`);
  return (await res.json()) as Health;
}

export async function metricsText(server: AnjuProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
}

export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

export function alive(server: AnjuProcess): boolean {
  return server.proc.exitCode === null && server.proc.signalCode === null;
}

/**
 * Devices publish QoS 1 readings until stopped, `pauseMs` apart (the CI machine is shared), reconnecting
 * whenever the server closes the connection. Every PUBACK is noted with when it came.
 */
export function publishUntilStopped(port: () => number, devices: Device[], pauseMs = 2) {
  const acked = new Map<string, Set<number>>(devices.map((d) => [d.id, new Set()]));
  const ackTimes: number[] = [];
  let running = true;
  const clients = new Set<MqttClient>();
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
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      clients.add(client);
      // Without reconnecting, mqtt.js leaves a publish whose connection closed waiting forever.
      const closed = new Promise<never>((_, reject) =>
        client.once('close', () => reject(new Error('connection closed'))),
      );
      closed.catch(() => undefined);
      try {
        while (running && client.connected) {
          const n = seq++;
          const body = { ts: T0 + n, seq: n, heartRate: 60 + (n % 50), worn: true };
          await Promise.race([
            client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify(body), { qos: 1 }),
            closed,
          ]);
          acked.get(device.id)!.add(T0 + n);
          ackTimes.push(Date.now());
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        }
      } catch {
        // refused (no PUBACK, connection closed) or the server went away: that reading was not acknowledged
      }
      clients.delete(client);
      client.end(true);
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    acked,
    total: () => ackTimes.length,
    /** The first PUBACK at or after `since` (ms), if any. */
    firstAckAfter: (since: number) => ackTimes.find((t) => t >= since),
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

/** Waits until the store has caught up, then checks that every acknowledged reading is stored, once. */
export async function expectEveryAckedStoredOnce(
  server: AnjuProcess,
  token: string,
  acked: Map<string, Set<number>>,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(async () => (await health(server)).checks.journal?.detail?.depth === 0, timeoutMs, 200);
  for (const [deviceId, timestamps] of acked) {
    const stored = await storedTimestamps(server, token, deviceId);
    expect(new Set(stored).size, `${deviceId}: a reading stored twice`).toBe(stored.length);
    const storedSet = new Set(stored);
    const missing = [...timestamps].filter((ts) => !storedSet.has(ts));
    expect(missing, `${deviceId}: acknowledged but not stored`).toEqual([]);
  }
}

export interface ServedFleet {
  dataDir: string;
  devices: Device[];
  /** An admin API token, for reading back what was stored. */
  token: string;
  /** Assign a restarted server here: the load (see startUnderLoad) and the cleanup follow it. */
  server: AnjuProcess;
}

/**
 * A data directory (a fresh one unless given) with `devices` registered, and `anju serve` on it; killed
 * and removed after the test.
 */
export async function serveFleet(
  cleanups: Cleanups,
  opts: { devices: number; env?: Record<string, string>; dataDir?: string },
): Promise<ServedFleet> {
  const dataDir = opts.dataDir ?? tempDir();
  cleanups.add(() => removeDir(dataDir));
  const { devices, token } = await registerDevices(dataDir, opts.devices);
  const fleet = { dataDir, devices, token, server: await spawnAnju(dataDir, opts.env) };
  cleanups.add(() => fleet.server.killHard());
  return fleet;
}

/**
 * `serveFleet` with its devices publishing until the test stops them (or the cleanup does). The first
 * `idle` devices do not publish, for a test to use on its own.
 */
export async function startUnderLoad(
  cleanups: Cleanups,
  opts: Parameters<typeof serveFleet>[1] & { idle?: number; pauseMs?: number },
) {
  const fleet = await serveFleet(cleanups, opts);
  const load = publishUntilStopped(
    () => fleet.server.mqttPort,
    fleet.devices.slice(opts.idle ?? 0),
    opts.pauseMs,
  );
  cleanups.add(() => load.stop());
  return Object.assign(fleet, { load });
}

export { spawnAnju, waitFor, type AnjuProcess };
