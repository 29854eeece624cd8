// The host clock stepping under load (issue 17): +2 h, then -10 min, injected into the `anju serve`
// process through its test hook (Date.now() moves; timers, on the monotonic clock, do not). Anju must stay
// up, keep acknowledging and storing readings, answer /healthz, and tell a device whose timestamps no
// longer fit its clock why its readings are refused, rather than drop them silently.
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { topicFor } from '../../firmware-protocol/index.ts';
import {
  alive,
  cleanupList,
  expectEveryAckedStoredOnce,
  health,
  startUnderLoad,
  waitFor,
  type AnjuProcess,
  type Device,
} from './support.ts';

const HOUR = 3_600_000;
const cleanups = cleanupList();
afterEach(() => cleanups.run());

/** Publishes one reading stamped with the real time and resolves with the error the server answers. */
async function errorForLiveReading(server: AnjuProcess, device: Device): Promise<{ code: string }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, {
    clientId: device.id,
    username: device.id,
    password: device.secret,
    reconnectPeriod: 0,
  });
  try {
    await client.subscribeAsync(topicFor(device.id, 'error'), { qos: 1 });
    const answer = new Promise<{ code: string }>((resolve) =>
      client.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as { code: string })),
    );
    const body = { ts: Date.now(), seq: 1, heartRate: 70, worn: true };
    await client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
    return await answer;
  } finally {
    await client.endAsync();
  }
}

describe('clock jumps', () => {
  it('keeps taking and storing readings through a jump of +2 h and one of -10 min', async () => {
    // The first device stays out of the load: it checks what a correctly stamped reading is answered.
    const { devices, server, token, load } = await startUnderLoad(cleanups, {
      devices: 4,
      idle: 1,
      env: { ANJU_TEST_HOOKS: '1' },
    });
    const probe = devices[0]!;
    await waitFor(() => load.total() >= 300, 30_000);

    for (const offsetMs of [2 * HOUR, -10 * 60_000]) {
      const reply = await server.hook({ hook: 'clock', offsetMs });
      expect(Math.abs((reply.now as number) - (Date.now() + offsetMs))).toBeLessThan(1000);
      const before = load.total();
      await waitFor(() => load.total() >= before + 300, 15_000);
      const h = await health(server);
      expect(h.status).toBe('ok');
      expect(alive(server)).toBe(true);
    }
    // Ten minutes slow, the server sees a correctly stamped reading as from its future: refused, and said.
    expect((await errorForLiveReading(server, probe)).code).toBe('E_CLOCK');

    await server.hook({ hook: 'clock', offsetMs: 0 });
    await load.stop();
    await expectEveryAckedStoredOnce(server, token, load.acked);
    expect(alive(server)).toBe(true);
  }, 90_000);
});
