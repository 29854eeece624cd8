// Starts a real Anju in this process on free loopback ports with a fresh data directory, and connects
// real MQTT clients to it. Every test that uses it stops it in afterEach/afterAll.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { aroundTests } from './around-tests.ts';
import type { DeviceKind } from '../firmware-protocol/index.ts';
import { startAnju, type RunningAnju } from '../cli/serve.ts';
import type { ServeConfigInput } from '../cli/config.ts';

/** The first admin's password in every test server (otherwise a generated one is printed). */
export const TEST_ADMIN_PASSWORD = 'tiger-lantern-mango-7';

export interface TestAnju extends RunningAnju {
  dataDir: string;
  /** Every log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestAnju(overrides: Partial<ServeConfigInput> = {}): Promise<TestAnju> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-test-'));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const anju = await startAnju(
    {
      dataDir,
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      adminPassword: TEST_ADMIN_PASSWORD,
      ...overrides,
    },
    logger,
  );
  return {
    ...anju,
    dataDir,
    logs,
    stop: async () => {
      await anju.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One test Anju shared by the tests of the calling file or describe block (see aroundTests). */
export function startTestAnjuAroundTests(
  started: (anju: TestAnju) => unknown,
  overrides: Partial<ServeConfigInput> = {},
): void {
  aroundTests(
    () => startTestAnju(overrides),
    (anju) => anju.stop(),
    started,
  );
}

let counter = 0;

/** Registers a resident with one device of `kind` and returns the device's id and its one-time secret. */
export async function addTestDevice(
  anju: RunningAnju,
  kind: DeviceKind = 'wearable',
): Promise<{ id: string; secret: string }> {
  counter += 1;
  const resident = await anju.registry.addResident({
    name: `测试 Resident ${counter}`,
    livesAlone: true,
    address: { community: 'Test Community', compound: 'A', building: '1', home: `${counter}01` },
  });
  const id = `${kind.replace('_', '')}-${process.pid}-${counter}`;
  const { secret } = await anju.registry.addDevice({ id, kind, residentId: resident.id });
  return { id, secret };
}

export function connectDevice(
  anju: RunningAnju,
  device: { id: string; secret: string },
  options: IClientOptions = {},
): Promise<MqttClient> {
  return connectRaw(anju, {
    clientId: device.id,
    username: device.id,
    password: device.secret,
    ...options,
  });
}

/** Connects with exactly these options and resolves once CONNACK accepted, or rejects with its code. */
export function connectRaw(anju: RunningAnju, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: anju.ports.mqtt,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** The CONNACK return code a connection attempt gets (0 when accepted). */
export async function connackCode(anju: RunningAnju, options: IClientOptions): Promise<number> {
  try {
    const client = await connectRaw(anju, options);
    await client.endAsync();
    return 0;
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

/** Polls `check` (sync or async) until it returns something truthy; a check that throws counts as not yet. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await Promise.resolve()
      .then(check)
      .catch(() => undefined);
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A valid wearable telemetry payload stamped now; `extra` adds fields or overrides these. */
export function wearableTelemetry(seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ts: Date.now(), seq, heartRate: 72, spo2: 97, worn: true, ...extra });
}

/** What the gateway accepted from one device: its entries in the journal. */
export function journaled(anju: RunningAnju, deviceId: string) {
  return anju.journal.readAfter(0, 100_000).filter((e) => e.reading.deviceId === deviceId);
}
