// The gateway's rules for who may connect and what a device may publish or subscribe to, driven through
// the broker's hooks without sockets (gateway/test-driver.ts). What needs the wire stays in
// gateway.test.ts (one real connection per rule family) and conformance.test.ts (raw bytes).
import { describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import {
  addTestDevice,
  journaled,
  startTestAnjuAroundTests,
  waitFor,
  wearableTelemetry,
  type TestAnju,
} from '../test/harness.ts';
import { driveGateway } from './test-driver.ts';

let anju: TestAnju;
let gateway: ReturnType<typeof driveGateway>;
startTestAnjuAroundTests((started) => {
  anju = started;
  gateway = driveGateway(anju.gateway);
});

async function connackCode(options: Parameters<typeof gateway.connect>[0]): Promise<number> {
  const driven = await gateway.connect(options);
  driven.end();
  return driven.returnCode;
}

describe('authentication [CONNACK codes of MQTT 3.1.1]', () => {
  it('refuses a client id that is not the device id with 2 (identifier rejected)', async () => {
    const device = await addTestDevice(anju);
    expect(
      await connackCode({ clientId: 'someone-else', username: device.id, password: device.secret }),
    ).toBe(2);
  });

  it('refuses a keepalive of 0 or over 1200 s with 2, as Mosquitto does for 3.1.1', async () => {
    const device = await addTestDevice(anju);
    const creds = { clientId: device.id, username: device.id, password: device.secret };
    expect(await connackCode({ ...creds, keepalive: 0 })).toBe(2);
    expect(await connackCode({ ...creds, keepalive: 1201 })).toBe(2);
    expect(await connackCode({ ...creds, keepalive: 1200 })).toBe(0);
  });

  it('refuses a revoked device with 5 (not authorized)', async () => {
    const device = await addTestDevice(anju);
    await anju.registry.revokeDevice(device.id);
    expect(await connackCode({ clientId: device.id, username: device.id, password: device.secret })).toBe(5);
  });

  it('answers 3 (server unavailable) after repeated failures for one device id, even with the right secret', async () => {
    const device = await addTestDevice(anju);
    for (let i = 0; i < 5; i++) {
      expect(await connackCode({ clientId: device.id, username: device.id, password: `guess-${i}` })).toBe(4);
    }
    expect(await connackCode({ clientId: device.id, username: device.id, password: device.secret })).toBe(3);
  });

  it('answers 3 after 10 failures from one address, for every device id', async () => {
    const device = await addTestDevice(anju);
    const address = '198.51.100.7';
    for (let i = 0; i < 10; i++) {
      expect(
        await connackCode({ address, clientId: `ghost-${i}`, username: `ghost-${i}`, password: 'x' }),
      ).toBe(4);
    }
    expect(
      await connackCode({ address, clientId: device.id, username: device.id, password: device.secret }),
    ).toBe(3);
    // Another address is not held to this one's failures.
    expect(await connackCode({ clientId: device.id, username: device.id, password: device.secret })).toBe(0);
  });
});

describe('topic access', () => {
  it("acknowledges but drops a publish to another device's topic or to a downlink topic, and says why", async () => {
    const victim = await addTestDevice(anju);
    const attacker = await addTestDevice(anju);
    const { client } = await gateway.connectDevice(attacker);
    const errors = await gateway.errorsOf(attacker.id);
    for (const topic of [
      topicFor(victim.id, 'telemetry'),
      'some/other/topic',
      topicFor(attacker.id, 'config'),
    ]) {
      const decision = await gateway.publish(client, topic, wearableTelemetry(1));
      expect(decision.error).toBeNull(); // acknowledged: the device must not resend it
      expect(decision.routedTo).not.toBe(topic); // and delivered to nobody
    }
    await waitFor(() => errors.length === 3);
    expect(errors.map((e) => e.code)).toEqual(['E_TOPIC', 'E_TOPIC', 'E_TOPIC']);
    expect(errors[0]!.topic).toBe(topicFor(victim.id, 'telemetry'));
    expect(journaled(anju, victim.id)).toHaveLength(0);
  });

  it("refuses a subscription to another device's topics or to uplink topics (SUBACK 0x80)", async () => {
    const other = await addTestDevice(anju);
    const device = await addTestDevice(anju);
    const { client } = await gateway.connectDevice(device);
    const granted = async (topic: string) => (await gateway.subscribe(client, topic)) !== null;
    expect(await granted(topicFor(other.id, 'config'))).toBe(false);
    expect(await granted('anju/v1/#')).toBe(false);
    expect(await granted('#')).toBe(false);
    expect(await granted(topicFor(device.id, 'telemetry'))).toBe(false);
    expect(await granted(topicFor(device.id, 'config'))).toBe(true);
  });
});

describe('payloads', () => {
  it('accepts every device kind on telemetry, event and heartbeat topics', async () => {
    const cases = [
      { kind: 'gas_sensor', channel: 'telemetry', body: { gas: 'co', concentration: 35, unit: 'ppm' } },
      { kind: 'env_monitor', channel: 'telemetry', body: { temperature: 17.5, motion: false } },
      { kind: 'water_meter', channel: 'telemetry', body: { litres: 1023.5 } },
      { kind: 'wearable', channel: 'event', body: { type: 'sos' } },
      { kind: 'env_monitor', channel: 'heartbeat', body: { firmware: '2.0.1', rssi: -70, uptime: 60 } },
    ] as const;
    for (const c of cases) {
      const device = await addTestDevice(anju, c.kind);
      const { client } = await gateway.connectDevice(device);
      const payload = JSON.stringify({ ts: Date.now(), seq: 5, ...c.body });
      expect(await gateway.publish(client, topicFor(device.id, c.channel), payload)).toEqual({
        error: null,
        routedTo: topicFor(device.id, c.channel),
      });
      expect(journaled(anju, device.id).map((e) => e.reading.message.channel)).toEqual([c.channel]);
    }
  });

  const invalid: [string, string | Buffer, string][] = [
    ['not JSON', '{"ts": 1, "seq"', 'E_JSON'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'E_JSON'],
    ['a missing field', JSON.stringify({ ts: Date.now(), seq: 1, heartRate: 70 }), 'E_SCHEMA'],
    ['an unknown field', JSON.stringify({ ts: Date.now(), seq: 1, worn: true, heartrate: 70 }), 'E_SCHEMA'],
    ['a wrong type', JSON.stringify({ ts: Date.now(), seq: 1, worn: 'yes' }), 'E_SCHEMA'],
    ['a heart rate of 900', wearableTelemetry(1, { heartRate: 900 }), 'E_RANGE'],
    ['SpO2 of 120 %', wearableTelemetry(1, { spo2: 120 }), 'E_RANGE'],
    ['a clock a day ahead', JSON.stringify({ ts: Date.now() + 86_400_000, seq: 1, worn: true }), 'E_CLOCK'],
    [
      'an oversize payload',
      JSON.stringify({ ts: Date.now(), seq: 1, worn: true, pad: 'x'.repeat(9000) }),
      'E_TOO_LARGE',
    ],
  ];

  it.each(invalid)(
    'answers %s with the right code, stores nothing and still serves the device',
    async (_name, payload, code) => {
      const device = await addTestDevice(anju);
      const { client } = await gateway.connectDevice(device);
      const errors = await gateway.errorsOf(device.id);
      const telemetryTopic = topicFor(device.id, 'telemetry');
      expect((await gateway.publish(client, telemetryTopic, payload)).error).toBeNull();
      await waitFor(() => errors.length === 1);
      expect(errors[0]).toMatchObject({ code, topic: telemetryTopic });
      expect(errors[0]!.message.length).toBeGreaterThan(0);
      expect(journaled(anju, device.id)).toHaveLength(0);
      expect(await gateway.publish(client, telemetryTopic, wearableTelemetry(2))).toEqual({
        error: null,
        routedTo: telemetryTopic,
      });
      expect(journaled(anju, device.id)).toHaveLength(1);
      expect(anju.gateway.refusals.forDevice(device.id)).toEqual({ [code]: 1 });
    },
  );

  it('echoes the seq of a refused message and the path of each problem', async () => {
    const device = await addTestDevice(anju);
    const { client } = await gateway.connectDevice(device);
    const errors = await gateway.errorsOf(device.id);
    await gateway.publish(
      client,
      topicFor(device.id, 'telemetry'),
      wearableTelemetry(77, { heartRate: 900, spo2: 20 }),
    );
    await waitFor(() => errors.length === 1);
    expect(errors[0]!.seq).toBe(77);
    expect(errors[0]!.issues.map((i) => i.path).sort()).toEqual(['heartRate', 'spo2']);
  });

  it('refuses a message of another device kind (a wearable sending gas readings)', async () => {
    const device = await addTestDevice(anju, 'wearable');
    const { client } = await gateway.connectDevice(device);
    const errors = await gateway.errorsOf(device.id);
    const gas = JSON.stringify({ ts: Date.now(), seq: 1, gas: 'methane', concentration: 5, unit: '%LEL' });
    await gateway.publish(client, topicFor(device.id, 'telemetry'), gas);
    await waitFor(() => errors.length === 1);
    expect(errors[0]!.code).toBe('E_SCHEMA');
  });

  it('logs refusals at most once per device per interval, counting the rest', async () => {
    const device = await addTestDevice(anju);
    const { client } = await gateway.connectDevice(device);
    for (let i = 0; i < 20; i++) await gateway.publish(client, topicFor(device.id, 'telemetry'), 'garbage');
    const lines = anju.logs.filter((l) => l.msg === 'message refused' && l.deviceId === device.id);
    expect(lines).toHaveLength(1);
    expect(anju.gateway.refusals.forDevice(device.id)).toEqual({ E_JSON: 20 });
  });
});
