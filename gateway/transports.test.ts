// The other ways in: MQTT over WebSocket and TLS, Mosquitto's own client, and revocation of a device
// that is connected.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import {
  addTestDevice,
  connectDevice,
  journaled,
  startTestAnju,
  wearableTelemetry,
  type TestAnju,
} from '../test/harness.ts';

const run = promisify(execFile);

let anju: TestAnju;
let certDir: string;
beforeAll(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'anju-tls-'));
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    path.join(certDir, 'key.pem'),
    '-out',
    path.join(certDir, 'cert.pem'),
  ]);
  anju = await startTestAnju({
    mqttsPort: 0,
    tlsCert: path.join(certDir, 'cert.pem'),
    tlsKey: path.join(certDir, 'key.pem'),
  });
});
afterAll(async () => {
  await anju.stop();
  rmSync(certDir, { recursive: true, force: true });
});

describe('transports', () => {
  it('accepts an authenticated device over WebSocket at /mqtt on the HTTP port', async () => {
    const device = await addTestDevice(anju);
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${anju.ports.http}/mqtt`, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    expect(journaled(anju, device.id)).toHaveLength(1);
    await client.endAsync();
  });

  it('refuses a WebSocket device with a wrong secret', async () => {
    const device = await addTestDevice(anju);
    await expect(
      mqtt.connectAsync(`ws://127.0.0.1:${anju.ports.http}/mqtt`, {
        clientId: device.id,
        username: device.id,
        password: 'wrong',
        reconnectPeriod: 0,
      }),
    ).rejects.toMatchObject({ code: 4 });
  });

  it('accepts a device over MQTTS with the configured certificate', async () => {
    const device = await addTestDevice(anju);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${anju.ports.mqtts}`, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      ca: readFileSync(path.join(certDir, 'cert.pem')),
      reconnectPeriod: 0,
    });
    await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    expect(journaled(anju, device.id)).toHaveLength(1);
    await client.endAsync();
  });

  /** mosquitto_pub as the device, QoS 1, one message: resolves on exit 0 (the PUBACK came). */
  const mosquittoPub = (device: { id: string }, secret: string, payload: string) =>
    run('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', String(anju.ports.mqtt), '-V', 'mqttv311', '-q', '1'],
      ...['-i', device.id, '-u', device.id, '-P', secret],
      ...['-t', topicFor(device.id, 'telemetry'), '-m', payload],
    ]);

  it('works with Mosquitto\u2019s client: a reading is stored, a bad one is acknowledged and dropped', async () => {
    const device = await addTestDevice(anju);
    await mosquittoPub(device, device.secret, wearableTelemetry(1));
    expect(journaled(anju, device.id)).toHaveLength(1);
    // Exit 0 means the PUBACK came: the device will not resend a message that can never be accepted.
    await mosquittoPub(device, device.secret, '{"ts":1,"seq":2,"worn":true}');
    expect(journaled(anju, device.id)).toHaveLength(1);
    expect(anju.gateway.refusals.forDevice(device.id)).toEqual({ E_RANGE: 1 });
  });

  it('refuses mosquitto_pub with a wrong secret (exit code, nothing stored)', async () => {
    const device = await addTestDevice(anju);
    await expect(mosquittoPub(device, 'wrong', wearableTelemetry(1))).rejects.toMatchObject({
      stderr: expect.stringMatching(/bad user name or password/i),
    });
    expect(journaled(anju, device.id)).toHaveLength(0);
  });
});

describe('revocation', () => {
  it('cuts off a connected device once it is revoked, and no other', async () => {
    const device = await addTestDevice(anju);
    const other = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    const otherClient = await connectDevice(anju, other);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await anju.registry.revokeDevice(device.id);
    expect(await anju.gateway.disconnectRevoked()).toBe(1);
    await closed;
    expect(otherClient.connected).toBe(true);
    await otherClient.endAsync();
  });
});
