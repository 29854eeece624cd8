// MQTT 3.1.1 rules the gateway enforces, each test named after the rule it checks and driven by raw bytes
// over a real TCP socket, since a conforming client library cannot send what these rules forbid.
import { describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
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
import { connack, connectPacket, puback, publishPacket, RawConnection } from '../test/raw-mqtt.ts';

let anju: TestAnju;
startTestAnjuAroundTests((started) => (anju = started));

async function metric(name: string, label: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${anju.ports.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** A registered device connected over a raw socket, CONNACK 0 already read. */
async function rawDevice(): Promise<{ id: string; conn: RawConnection }> {
  const device = await addTestDevice(anju);
  const conn = new RawConnection(anju.ports.mqtt);
  conn.send(connectPacket({ clientId: device.id, username: device.id, password: device.secret }));
  expect(await conn.receivedAtLeast(4)).toEqual(connack(0));
  conn.received = Buffer.alloc(0);
  return { id: device.id, conn };
}

/** The gateway still serves other devices: the process did not crash and nothing is stuck. */
async function stillServing(): Promise<void> {
  const device = await addTestDevice(anju);
  const client = await connectDevice(anju, device);
  await client.publishAsync(topicFor(device.id, 'telemetry'), wearableTelemetry(1), { qos: 1 });
  expect(journaled(anju, device.id)).toHaveLength(1);
  await client.endAsync();
}

describe('PUBLISH [MQTT 3.1.1 §1.5.3, §2.3.1]', () => {
  it('[MQTT-1.5.3-1] closes the connection on a topic that is not well-formed UTF-8, without a PUBACK', async () => {
    const { id, conn } = await rawDevice();
    const before = await metric('anju_mqtt_protocol_violations_total', 'MQTT-1.5.3-1');
    conn.send(
      publishPacket({
        topic: topicFor(id, 'telemetry'),
        payload: wearableTelemetry(1),
        qos: 1,
        messageId: 1,
      }),
    );
    expect(await conn.receivedAtLeast(4)).toEqual(puback(1));
    // 0xFF never occurs in UTF-8; 0xED 0xA0 0x80 would encode a surrogate, which UTF-8 forbids too.
    for (const bad of [Buffer.from([0xff]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const topic = Buffer.concat([Buffer.from(`anju/v1/${id}/tele`), bad, Buffer.from('metry')]);
      const again = bad[0] === 0xff ? conn : (await rawDevice()).conn;
      again.received = Buffer.alloc(0);
      again.send(publishPacket({ topic, payload: wearableTelemetry(2), qos: 1, messageId: 2 }));
      await again.closed;
      expect(again.received).toEqual(Buffer.alloc(0));
    }
    expect(journaled(anju, id).map((e) => JSON.stringify(e.reading.message.body))).toEqual([
      expect.stringContaining('"seq":1'),
    ]);
    expect(await metric('anju_mqtt_protocol_violations_total', 'MQTT-1.5.3-1')).toBe(before + 2);
    await stillServing();
  });

  it('[MQTT-1.5.3-1] finds the bad byte when the topic arrives split over several TCP segments', async () => {
    const { id, conn } = await rawDevice();
    const topic = Buffer.concat([
      Buffer.from(`anju/v1/${id}/tele`),
      Buffer.from([0xc3]),
      Buffer.from('metry'),
    ]);
    const packet = publishPacket({ topic, payload: wearableTelemetry(1), qos: 1, messageId: 3 });
    // Split inside the length prefix, inside the topic, and between the lead byte and what follows it.
    const cut = 2 + 2 + `anju/v1/${id}/tele`.length + 1;
    for (const piece of [
      packet.subarray(0, 3),
      packet.subarray(3, 10),
      packet.subarray(10, cut),
      packet.subarray(cut),
    ]) {
      conn.send(piece);
      await new Promise((r) => setTimeout(r, 20));
    }
    await conn.closed;
    expect(conn.received).toEqual(Buffer.alloc(0));
    expect(journaled(anju, id)).toHaveLength(0);
  });

  it('[MQTT-1.5.3-1] keeps a connection whose topic really contains U+FFFD: valid UTF-8, refused as E_TOPIC', async () => {
    const { id, conn } = await rawDevice();
    conn.send(
      publishPacket({
        topic: `anju/v1/${id}/tele\uFFFDmetry`,
        payload: wearableTelemetry(1),
        qos: 1,
        messageId: 7,
      }),
    );
    expect(await conn.receivedAtLeast(4)).toEqual(puback(7));
    expect(conn.isClosed).toBe(false);
    expect(anju.gateway.refusals.forDevice(id)).toEqual({ E_TOPIC: 1 });
    conn.close();
  });

  it('[MQTT-1.5.3-2] closes the connection on a topic containing U+0000, without a PUBACK', async () => {
    const { id, conn } = await rawDevice();
    conn.send(
      publishPacket({ topic: `${topicFor(id, 'telemetry')}\u0000`, payload: wearableTelemetry(1), qos: 1 }),
    );
    await conn.closed;
    expect(conn.received).toEqual(Buffer.alloc(0));
    expect(journaled(anju, id)).toHaveLength(0);
    expect(await metric('anju_mqtt_protocol_violations_total', 'MQTT-1.5.3-2')).toBeGreaterThan(0);
    await stillServing();
  });

  it.each([1, 2] as const)(
    '[MQTT-2.3.1-1] closes the connection on a QoS %i PUBLISH with packet id 0 and stores nothing',
    async (qos) => {
      const { id, conn } = await rawDevice();
      const before = await metric('anju_mqtt_protocol_violations_total', 'MQTT-2.3.1-1');
      // A valid reading on the device's own topic: only the packet id is wrong.
      conn.send(
        publishPacket({ topic: topicFor(id, 'event'), payload: wearableTelemetry(1), qos, messageId: 0 }),
      );
      await conn.closed;
      expect(conn.received).toEqual(Buffer.alloc(0));
      expect(journaled(anju, id)).toHaveLength(0);
      expect(await metric('anju_mqtt_protocol_violations_total', 'MQTT-2.3.1-1')).toBe(before + 1);
      await stillServing();
    },
  );

  it('[MQTT-2.3.1-1] accepts a QoS 0 PUBLISH, which carries no packet id', async () => {
    const { id, conn } = await rawDevice();
    conn.send(publishPacket({ topic: topicFor(id, 'telemetry'), payload: wearableTelemetry(1), qos: 0 }));
    await waitFor(() => journaled(anju, id).length === 1);
    expect(conn.isClosed).toBe(false);
    conn.close();
  });
});

describe('CONNECT [MQTT 3.1.1 §3.1.2]', () => {
  it('[MQTT-3.1.2-2] answers CONNACK 1 to an MQIsdp level 3 CONNECT (MQTT 3.1) and closes', async () => {
    const device = await addTestDevice(anju);
    const conn = new RawConnection(anju.ports.mqtt);
    conn.send(
      connectPacket({
        protocolName: 'MQIsdp',
        protocolLevel: 3,
        clientId: device.id,
        username: device.id,
        password: device.secret,
      }),
    );
    await conn.closed;
    expect(conn.received).toEqual(connack(1));
    expect((await anju.registry.getDevice(device.id))?.online).toBe(false);
    expect(await metric('anju_mqtt_connect_refused_total', 'protocol_level')).toBeGreaterThan(0);
  });

  it('[MQTT-3.1.2-2] answers CONNACK 1 to protocol level 5 (MQTT 5) and closes', async () => {
    const device = await addTestDevice(anju);
    const conn = new RawConnection(anju.ports.mqtt);
    conn.send(
      connectPacket({ protocolLevel: 5, clientId: device.id, username: device.id, password: device.secret }),
    );
    await conn.closed;
    // MQTT 5 [MQTT-3.1.2-2] lets a server answer a level it does not speak with the 3.1.1 CONNACK.
    expect(conn.received.subarray(0, 4)).toEqual(connack(1));
    expect((await anju.registry.getDevice(device.id))?.online).toBe(false);
  });

  it.each([0, 2, 6, 127])(
    '[MQTT-3.1.2-2] answers CONNACK 1 to protocol level %i, which the packet parser cannot read, and closes',
    async (level) => {
      const device = await addTestDevice(anju);
      const conn = new RawConnection(anju.ports.mqtt);
      conn.send(
        connectPacket({
          protocolLevel: level,
          clientId: device.id,
          username: device.id,
          password: device.secret,
        }),
      );
      await conn.closed;
      expect(conn.received).toEqual(connack(1));
    },
  );

  it('refuses at CONNECT, with 5 (not authorized), a will on any topic but the device\u2019s own status', async () => {
    const device = await addTestDevice(anju);
    const other = await addTestDevice(anju);
    const creds = { clientId: device.id, username: device.id, password: device.secret };
    const will = (topic: string) => ({
      topic,
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1 as const,
      retain: true,
    });
    for (const topic of [
      'anju/v1/+/status',
      'anju/v1/#',
      topicFor(other.id, 'status'),
      topicFor(device.id, 'telemetry'),
    ])
      expect(await connackCode(anju, { ...creds, will: will(topic) })).toBe(5);
    expect(await connackCode(anju, { ...creds, will: will(topicFor(device.id, 'status')) })).toBe(0);
    expect(anju.logs.filter((l) => l.reason === 'will_topic' && l.deviceId === device.id)).toHaveLength(4);
  });

  it('answers a wrong secret with 4 even when the will is wrong too: the will is judged only for a known device', async () => {
    const device = await addTestDevice(anju);
    expect(
      await connackCode(anju, {
        clientId: device.id,
        username: device.id,
        password: 'wrong',
        will: { topic: 'anju/v1/#', payload: Buffer.from('x'), qos: 0, retain: false },
      }),
    ).toBe(4);
  });
});
