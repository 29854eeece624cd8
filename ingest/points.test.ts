import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeUplink, type DeviceKind, type UplinkChannel } from '../firmware-protocol/index.ts';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { toPoints } from './points.ts';
import { SqliteTelemetryStore } from './store/sqlite.ts';
import { Point } from './store/types.ts';

const NOW = 1_764_000_000_000;

/** A reading as the gateway hands it over: decoded by the real protocol decoder. */
function accepted(
  kind: DeviceKind,
  channel: UplinkChannel,
  body: Record<string, unknown>,
  owner: { residentId: string | null; homeId: string | null } = { residentId: 'res-1', homeId: 'home-1' },
): AcceptedReading {
  const decoded = decodeUplink(kind, channel, new TextEncoder().encode(JSON.stringify(body)), NOW);
  if (!decoded.ok) throw new Error(`test payload refused: ${decoded.error.message}`);
  return { deviceId: 'dev-1', kind, ...owner, receivedAt: NOW, qos: 1, message: decoded.message };
}

const owner = { deviceId: 'dev-1', residentId: 'res-1', homeId: 'home-1' };

describe('toPoints', () => {
  it('turns wearable telemetry into one wearable point with the device time and seq', () => {
    const reading = accepted('wearable', 'telemetry', {
      ts: NOW - 1000,
      seq: 42,
      heartRate: 72,
      spo2: 97,
      skinTemp: 33.4,
      activity: 'light',
      worn: true,
      battery: 81,
    });
    expect(toPoints(reading)).toEqual([
      {
        measurement: 'wearable',
        tags: owner,
        fields: { heartRate: 72, spo2: 97, skinTemp: 33.4, activity: 'light', worn: true, battery: 81 },
        ts: NOW - 1000,
        seq: 42,
      },
    ]);
  });

  it('tags gas readings with the gas and leaves out the unit, which the gas implies', () => {
    const reading = accepted('gas_sensor', 'telemetry', {
      ts: NOW,
      seq: 7,
      gas: 'methane',
      concentration: 3.5,
      unit: '%LEL',
      sensorAgeDays: 400,
      valve: 'open',
    });
    expect(toPoints(reading)).toEqual([
      {
        measurement: 'gas',
        tags: { ...owner, gas: 'methane' },
        fields: { concentration: 3.5, sensorAgeDays: 400, valve: 'open' },
        ts: NOW,
        seq: 7,
      },
    ]);
  });

  it('maps environment and water telemetry to the env and water measurements', () => {
    const env = toPoints(
      accepted('env_monitor', 'telemetry', { ts: NOW, seq: 3, temperature: 21.5, motion: true }),
    );
    expect(env).toMatchObject([{ measurement: 'env', fields: { temperature: 21.5, motion: true } }]);
    const water = toPoints(
      accepted('water_meter', 'telemetry', { ts: NOW, seq: 19, litres: 123456.5, flowLpm: 0 }),
    );
    expect(water).toMatchObject([{ measurement: 'water', fields: { litres: 123456.5, flowLpm: 0 } }]);
  });

  it('turns an event into an event point tagged with its type, with the type as a field too', () => {
    const fall = accepted('wearable', 'event', {
      ts: NOW,
      seq: 43,
      type: 'fall',
      confidence: 0.86,
      cancellable: true,
      cancelWindowS: 30,
    });
    expect(toPoints(fall)).toEqual([
      {
        measurement: 'event',
        tags: { ...owner, type: 'fall' },
        fields: { event: 'fall', confidence: 0.86, cancellable: true, cancelWindowS: 30 },
        ts: NOW,
        seq: 43,
      },
    ]);
    const sos = accepted('wearable', 'event', { ts: NOW, seq: 45, type: 'sos' });
    expect(toPoints(sos)).toMatchObject([
      { measurement: 'event', tags: { type: 'sos' }, fields: { event: 'sos' } },
    ]);
    const alarm = accepted('gas_sensor', 'event', {
      ts: NOW,
      seq: 9,
      type: 'gas_alarm',
      gas: 'co',
      concentration: 120,
      unit: 'ppm',
    });
    expect(toPoints(alarm)).toMatchObject([
      { tags: { type: 'gas_alarm', gas: 'co' }, fields: { event: 'gas_alarm', concentration: 120 } },
    ]);
  });

  it('turns a heartbeat into a heartbeat point', () => {
    const beat = accepted('env_monitor', 'heartbeat', {
      ts: NOW,
      seq: 100,
      firmware: '1.4.2',
      rssi: -67,
      battery: 77,
      uptime: 86400,
    });
    expect(toPoints(beat)).toEqual([
      {
        measurement: 'heartbeat',
        tags: owner,
        fields: { firmware: '1.4.2', rssi: -67, battery: 77, uptime: 86400 },
        ts: NOW,
        seq: 100,
      },
    ]);
  });

  it('makes no points from a status message', () => {
    expect(toPoints(accepted('wearable', 'status', { state: 'online', ts: NOW }))).toEqual([]);
  });

  it('leaves out resident and home tags for a device that belongs to nobody yet', () => {
    const reading = accepted(
      'env_monitor',
      'telemetry',
      { ts: NOW, seq: 1, humidity: 40 },
      {
        residentId: null,
        homeId: null,
      },
    );
    expect(toPoints(reading)[0]!.tags).toEqual({ deviceId: 'dev-1' });
  });

  describe('with a real store', () => {
    const dirs: string[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('produces points that pass the store schema and can be read back', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'anju-points-'));
      dirs.push(dir);
      const store = new SqliteTelemetryStore({ dataDir: dir });
      const readings = [
        accepted('wearable', 'telemetry', { ts: NOW, seq: 1, heartRate: 70, worn: true }),
        accepted('gas_sensor', 'telemetry', { ts: NOW, seq: 2, gas: 'lpg', concentration: 1, unit: '%LEL' }),
        accepted('env_monitor', 'event', { ts: NOW + 1, seq: 3, type: 'door', state: 'open' }),
        accepted('water_meter', 'event', { ts: NOW + 2, seq: 4, type: 'continuous_flow', minutes: 180 }),
        accepted('wearable', 'heartbeat', { ts: NOW + 3, seq: 5, firmware: '2.0', rssi: -70, uptime: 5 }),
      ];
      const points = readings.flatMap(toPoints);
      for (const p of points) expect(Point.safeParse(p).success).toBe(true);
      await store.write(points);
      const events = await store.query({ residentId: 'res-1', field: 'event', from: NOW, to: NOW + 10 });
      expect(events).toEqual([
        { ts: NOW + 1, value: 'door' },
        { ts: NOW + 2, value: 'continuous_flow' },
      ]);
      expect((await store.latest({ deviceId: 'dev-1' })).map((l) => l.field)).toEqual([
        'concentration',
        'event',
        'firmware',
        'heartRate',
        'minutes',
        'rssi',
        'state',
        'uptime',
        'worn',
      ]);
      await store.close();
    });
  });
});
