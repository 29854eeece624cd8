import { describe, expect, it } from 'vitest';
import { EngineKit, HOUR, MIN, at } from '../test-kit.ts';

const t0 = at(0, '10:00');

describe('device health', () => {
  it('does not raise offline when a device reconnects within 2 minutes of its last will', () => {
    const kit = new EngineKit();
    kit.heartbeat('G-1', t0);
    kit.send('G-1', 'status', t0 + 10_000, { state: 'offline' });
    kit.send('G-1', 'status', t0 + 70_000, { state: 'online' });
    kit.advanceTo(t0 + 5 * MIN);
    expect(kit.of('device.offline')).toEqual([]);
  });

  it('raises offline 2 minutes after a last will that is not followed by a reconnect', () => {
    const kit = new EngineKit();
    kit.heartbeat('G-1', t0);
    kit.send('G-1', 'status', t0 + 10_000, { state: 'offline' });
    kit.advanceTo(t0 + 10 * MIN);
    expect(kit.of('device.offline')).toMatchObject([
      { at: t0 + 130_000, deviceId: 'G-1', severity: 'warning', evidence: { reason: 'last will' } },
    ]);
  });

  it('raises offline after three missed heartbeats and clears at the next message', () => {
    const kit = new EngineKit();
    kit.heartbeat('W-1', t0);
    kit.heartbeat('W-1', t0 + 5 * MIN);
    kit.advanceTo(t0 + 20 * MIN);
    expect(kit.of('device.offline')).toEqual([]);
    kit.advanceTo(t0 + 20 * MIN + 1);
    expect(kit.of('device.offline')).toMatchObject([{ deviceId: 'W-1', evidence: { reason: 'silent' } }]);
    kit.heartbeat('W-1', t0 + 30 * MIN);
    expect(kit.of('device.offline', 'clear')).toMatchObject([{ at: t0 + 30 * MIN }]);
  });

  it('keeps a silent water meter online longer: its heartbeat interval is an hour', () => {
    const kit = new EngineKit();
    kit.heartbeat('M-1', t0);
    kit.advanceTo(t0 + 2 * HOUR);
    expect(kit.of('device.offline')).toEqual([]);
    kit.advanceTo(t0 + 3 * HOUR + 1);
    expect(kit.of('device.offline')).toHaveLength(1);
  });

  it('warns of a battery below 15 % and clears only once it is back above 20 %', () => {
    const kit = new EngineKit();
    const battery = (m: number, pct: number) =>
      kit.send('E-LIV', 'heartbeat', t0 + m * MIN, { firmware: '1', rssi: -50, uptime: 1, battery: pct });
    battery(0, 16);
    battery(1, 14);
    battery(2, 18);
    expect(kit.of('device.battery')).toMatchObject([{ severity: 'warning', deviceId: 'E-LIV' }]);
    expect(kit.of('device.battery', 'clear')).toEqual([]);
    battery(3, 60);
    expect(kit.of('device.battery', 'clear')).toHaveLength(1);
  });

  it('warns of a wearable not worn for 3 hours of daytime; the night it charges does not count', () => {
    const kit = new EngineKit();
    kit.telemetry('W-1', at(0, '20:00'), { worn: false });
    kit.advanceTo(at(1, '09:59'));
    expect(kit.of('device.not_worn')).toEqual([]);
    kit.advanceTo(at(1, '10:00'));
    // 20:00-21:00 and 08:00-10:00 are the three daytime hours.
    expect(kit.of('device.not_worn')).toMatchObject([{ at: at(1, '10:00') }]);
    kit.telemetry('W-1', at(1, '10:05'), { worn: true });
    expect(kit.of('device.not_worn', 'clear')).toHaveLength(1);
  });

  it('warns of a gas sensor fault and of a sensor past its service life', () => {
    const kit = new EngineKit();
    kit.event('G-1', t0, { type: 'sensor_fault', detail: 'heater open circuit' });
    kit.telemetry('G-1', t0 + MIN, { gas: 'methane', concentration: 0, unit: '%LEL', sensorAgeDays: 1900 });
    expect(kit.of('device.sensor_fault')).toMatchObject([{ evidence: { detail: 'heater open circuit' } }]);
    expect(kit.of('device.sensor_age')).toMatchObject([{ evidence: { value: 1900, threshold: 1825 } }]);
  });
});
