// The gateway over real MQTT connections: what a device vendor and an attacker each see. One test per
// family of rules here; each rule of who may connect, publish and subscribe is in rules.test.ts.
import net from 'node:net';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { topicFor, type ProtocolError } from '../firmware-protocol/index.ts';
import {
  addTestDevice,
  connackCode,
  connectDevice,
  journaled,
  startTestAnjuAroundTests,
  waitFor,
  wearableTelemetry,
  type TestAnju,
} from '../test/harness.ts';

let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started));

/** The return codes of the SUBACK itself (mqtt.js rejects a subscribe with any refusal in it). */
function subackCodes(client: MqttClient, topics: string[]): Promise<number[]> {
  return new Promise((resolve) => {
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'suback') resolve(packet.granted as number[]);
    });
    client.subscribe(topics, { qos: 1 }, () => undefined);
  });
}

async function errorsOf(client: MqttClient, deviceId: string): Promise<ProtocolError[]> {
  const errors: ProtocolError[] = [];
  client.on('message', (topic, payload) => {
    if (topic === topicFor(deviceId, 'error')) errors.push(JSON.parse(payload.toString()) as ProtocolError);
  });
  await client.subscribeAsync(topicFor(deviceId, 'error'), { qos: 1 });
  return errors;
}

describe('accepting readings', () => {
  it('journals a valid QoS 1 reading before the PUBACK reaches the device', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    // PUBACK received: the reading must already be in the journal, no waiting.
    const entries = journaled(anju, device.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.reading).toMatchObject({
      deviceId: device.id,
      kind: 'wearable',
      message: { channel: 'telemetry', body: { seq: 1, heartRate: 72 } },
    });
    await client.endAsync();
  });

  it('stores a QoS 1 redelivery (same seq and ts) once', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    const payload = wearableTelemetry(9);
    await client.publishAsync(topicFor(device.id, 'telemetry'), payload, { qos: 1 });
    await client.publishAsync(topicFor(device.id, 'telemetry'), payload, { qos: 1, dup: true });
    expect(journaled(anju, device.id)).toHaveLength(1);
    await client.endAsync();
  });

  it('keeps presence in the registry: online on connect, offline through the last will', async () => {
    const device = await addTestDevice(anju, 'env_monitor');
    const client = await connectDevice(anju, device, {
      will: {
        topic: topicFor(device.id, 'status'),
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    await waitFor(async () => (await anju.registry.getDevice(device.id))?.online === true);
    expect((await anju.registry.getDevice(device.id))?.lastSeen).toBeGreaterThan(0);
    client.stream.destroy(); // an unclean end: the broker publishes the will
    await waitFor(async () => (await anju.registry.getDevice(device.id))?.online === false);
  });
});

describe('authentication [CONNACK codes of MQTT 3.1.1]; the rest of its rules in rules.test.ts', () => {
  it('refuses an unknown device and a wrong secret alike with 4 (bad user name or password)', async () => {
    const device = await addTestDevice(anju);
    expect(await connackCode(anju, { clientId: 'nobody-1', username: 'nobody-1', password: 'x' })).toBe(4);
    expect(await connackCode(anju, { clientId: device.id, username: device.id, password: 'wrong' })).toBe(4);
    expect(await connackCode(anju, { clientId: device.id, username: device.id })).toBe(4);
  });
});

describe('topic access', () => {
  it("acknowledges but drops a publish to another device's topic, and says why on the error topic", async () => {
    const victim = await addTestDevice(anju);
    const attacker = await addTestDevice(anju);
    const client = await connectDevice(anju, attacker);
    const errors = await errorsOf(client, attacker.id);
    await client.publishAsync(topicFor(victim.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    await client.publishAsync('some/other/topic', 'hello', { qos: 1 });
    await client.publishAsync(topicFor(attacker.id, 'config'), '{}', { qos: 1 });
    await waitFor(() => errors.length === 3);
    expect(errors.map((e) => e.code)).toEqual(['E_TOPIC', 'E_TOPIC', 'E_TOPIC']);
    expect(errors[0]!.topic).toBe(topicFor(victim.id, 'telemetry'));
    expect(journaled(anju, victim.id)).toHaveLength(0);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it('never delivers one device\u2019s readings to another device', async () => {
    const a = await addTestDevice(anju);
    const b = await addTestDevice(anju);
    const ca = await connectDevice(anju, a);
    const cb = await connectDevice(anju, b);
    const seen: string[] = [];
    cb.on('message', (topic) => seen.push(topic));
    expect(await subackCodes(cb, ['#', topicFor(a.id, 'telemetry')])).toEqual([128, 128]);
    await ca.publishAsync(topicFor(a.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    await Promise.all([ca.endAsync(), cb.endAsync()]);
  });
});

describe('invalid payloads (each rule in rules.test.ts)', () => {
  it('survives 10,000 garbage payloads and counts every one', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    const before = anju.gateway.refusals.totalCount();
    const garbage = Array.from({ length: 10_000 }, (_, i) =>
      i % 4 === 0
        ? Buffer.from([i & 0xff, 0xff, 0x00])
        : i % 4 === 1
          ? `{"seq":${i}`
          : i % 4 === 2
            ? '[]'
            : wearableTelemetry(i, { spo2: 5 }),
    );
    await Promise.all(
      garbage.map((g) => client.publishAsync(topicFor(device.id, 'telemetry'), g, { qos: 1 })),
    );
    expect(anju.gateway.refusals.totalCount() - before).toBe(10_000);
    const counts = anju.gateway.refusals.forDevice(device.id);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(counts.E_RANGE).toBe(2500);
    await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    expect(journaled(anju, device.id)).toHaveLength(1);
    await client.endAsync();
  });
});

describe('malformed MQTT', () => {
  function rawExchange(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect(anju.ports.mqtt, '127.0.0.1', () => socket.write(bytes));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
      setTimeout(() => socket.destroy(), 2000);
    });
  }

  it('closes connections that send garbage bytes and keeps serving others', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    await Promise.all([
      rawExchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
      rawExchange(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])), // remaining length over 4 bytes
      rawExchange(Buffer.from([0x30, 0x05, 0x00])), // PUBLISH before CONNECT, truncated
      rawExchange(Buffer.alloc(1024, 0xff)),
    ]);
    await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    expect(journaled(anju, device.id)).toHaveLength(1);
    await client.endAsync();
  });

  it('closes a connection whose frame declares more than the frame limit before the body arrives', async () => {
    const device = await addTestDevice(anju);
    const client = await connectDevice(anju, device);
    const closed = new Promise<void>((resolve) => client.stream.once('close', () => resolve()));
    // A PUBLISH header declaring 10 MB; only the header is sent.
    client.stream.write(Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04]));
    await closed;
    expect(
      anju.logs.some((l) => l.msg === 'connection closed: frame too large' && l.declared === 10_000_000),
    ).toBe(true);
    const other = await addTestDevice(anju);
    const otherClient = await connectDevice(anju, other);
    await otherClient.publishAsync(topicFor(other.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
    await otherClient.endAsync();
  });
});
