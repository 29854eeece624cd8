// From a device's MQTT message to an alert record, in a real anju serve: the rule engine sees every
// journaled reading, and its state and the alerts survive a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { addTestDevice, connectDevice, startTestAnju, waitFor, type TestAnju } from './harness.ts';

let anju: TestAnju;
beforeAll(async () => {
  anju = await startTestAnju();
});
afterAll(async () => {
  await anju.stop();
});

describe('alerts from devices', () => {
  it('opens a critical SOS alert for the wearer the moment the button is pressed', async () => {
    const device = await addTestDevice(anju, 'wearable');
    const residentId = (await anju.registry.getDevice(device.id))!.residentId!;
    const client = await connectDevice(anju, device);
    const pressedAt = Date.now();
    await client.publishAsync(
      topicFor(device.id, 'event'),
      JSON.stringify({ ts: pressedAt, seq: 1, type: 'sos' }),
      {
        qos: 1,
      },
    );
    const [alert] = await waitFor(async () => {
      const found = await anju.alerting.alerts.list({ residentIds: [residentId] });
      return found.length > 0 && found;
    }, 2000);
    expect(alert).toMatchObject({ residentId, ruleId: 'event.sos', severity: 'critical', state: 'open' });
    expect(Date.now() - pressedAt).toBeLessThan(2000);
    await client.endAsync();
  });

  it('raises a gas alarm only after the level has held past the hold time, in event time', async () => {
    const device = await addTestDevice(anju, 'gas_sensor');
    const residentId = (await anju.registry.getDevice(device.id))!.residentId!;
    const client = await connectDevice(anju, device);
    const t0 = Date.now() - 60_000;
    const publish = (seq: number, ts: number, concentration: number) =>
      client.publishAsync(
        topicFor(device.id, 'telemetry'),
        JSON.stringify({ ts, seq, gas: 'methane', concentration, unit: '%LEL' }),
        { qos: 1 },
      );
    // A 4-second spike (steam, a spray) stays below the hold time: no alert.
    await publish(1, t0, 30);
    await publish(2, t0 + 4000, 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(await anju.alerting.alerts.list({ residentIds: [residentId] })).toEqual([]);
    // A real leak: above 25 % LEL for 20 s.
    for (let i = 0; i <= 4; i++) await publish(3 + i, t0 + 20_000 + i * 5000, 28);
    const [alert] = await waitFor(async () => {
      const found = await anju.alerting.alerts.list({ residentIds: [residentId] });
      return found.length > 0 && found;
    }, 2000);
    expect(alert).toMatchObject({ ruleId: 'gas.methane', severity: 'alarm' });
    await client.endAsync();
  });

  it("applies a resident's own thresholds, set on the admin page, to that resident only", async () => {
    const mine = await addTestDevice(anju, 'gas_sensor');
    const other = await addTestDevice(anju, 'gas_sensor');
    const myResident = (await anju.registry.getDevice(mine.id))!.residentId!;
    const otherResident = (await anju.registry.getDevice(other.id))!.residentId!;
    // This home's detector sits by the stove: warn only from 18 % LEL.
    await anju.residentRules.put(myResident, { gas: { methane: { warning: 18 } } }, 'test-admin');
    const t0 = Date.now() - 60_000;
    for (const device of [mine, other]) {
      const client = await connectDevice(anju, device);
      for (let i = 0; i < 5; i++) {
        const body = { ts: t0 + i * 5000, seq: i, gas: 'methane', concentration: 14, unit: '%LEL' };
        await client.publishAsync(topicFor(device.id, 'telemetry'), JSON.stringify(body), { qos: 1 });
      }
      await client.endAsync();
    }
    await waitFor(
      async () => (await anju.alerting.alerts.list({ residentIds: [otherResident] })).length === 1,
      2000,
    );
    expect((await anju.alerting.alerts.list({ residentIds: [otherResident] }))[0]).toMatchObject({
      severity: 'warning',
    });
    expect(await anju.alerting.alerts.list({ residentIds: [myResident] })).toEqual([]);
  });

  it('keeps alerts and rule state across a restart', async () => {
    const device = await addTestDevice(anju, 'wearable');
    const residentId = (await anju.registry.getDevice(device.id))!.residentId!;
    const client = await connectDevice(anju, device);
    await client.publishAsync(
      topicFor(device.id, 'event'),
      JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
      {
        qos: 1,
      },
    );
    await waitFor(
      async () => (await anju.alerting.alerts.list({ residentIds: [residentId] })).length === 1,
      2000,
    );
    await client.endAsync();

    await anju.close();
    const { startAnju } = await import('../cli/serve.ts');
    const again = await startAnju({
      dataDir: anju.dataDir,
      host: '127.0.0.1',
      mqttPort: 0,
      httpPort: 0,
      logLevel: 'silent',
    });
    try {
      const alerts = await again.alerting.alerts.list({ residentIds: [residentId] });
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ ruleId: 'event.sos', state: 'open' });
      // A repeat press after the restart updates the same incident rather than opening a second one.
      const c2 = await connectDevice(again, device);
      await c2.publishAsync(
        topicFor(device.id, 'event'),
        JSON.stringify({ ts: Date.now(), seq: 2, type: 'sos' }),
        {
          qos: 1,
        },
      );
      // Waits for the repeat itself: a length of 1 alone would hold if the press were dropped.
      await waitFor(
        async () => (await again.alerting.alerts.list({ residentIds: [residentId] }))[0]?.repeatCount === 1,
        5000,
      );
      const after = await again.alerting.alerts.list({ residentIds: [residentId] });
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ id: alerts[0]!.id, repeatCount: 1, state: 'open' });
      await c2.endAsync();
    } finally {
      await again.close();
      anju = await startTestAnju(); // afterAll stops a fresh one
    }
  });
});
