// The engine's judgement of a resident, which the homes overview shows: it must say what the alerts say.
import { describe, expect, it } from 'vitest';
import { EngineKit, HOUR, MIN, at } from './test-kit.ts';

const t0 = at(0, '10:00');

describe('RuleEngine.judgement', () => {
  it('knows nothing of a resident none of whose devices has reported', () => {
    expect(new EngineKit().engine.judgement('rs_1')).toBeUndefined();
  });

  it('tells a report from a sign of life: heartbeats are not activity, motion is', () => {
    const kit = new EngineKit();
    kit.heartbeat('G-1', t0);
    expect(kit.engine.judgement('rs_1')).toEqual({
      lastActivity: null,
      lastReport: t0,
      offlineDevices: [],
      inactive: false,
    });
    kit.telemetry('E-LIV', t0 + MIN, { motion: true });
    expect(kit.engine.judgement('rs_1')).toMatchObject({ lastActivity: t0 + MIN, lastReport: t0 + MIN });
  });

  it('holds a device offline exactly while device.offline is raised for it', () => {
    const kit = new EngineKit();
    kit.heartbeat('W-1', t0);
    kit.heartbeat('G-1', t0);
    kit.advanceTo(t0 + 10 * MIN);
    expect(kit.engine.judgement('rs_1')!.offlineDevices).toEqual([]);
    kit.heartbeat('G-1', t0 + 15 * MIN);
    kit.advanceTo(t0 + 20 * MIN + 1);
    expect(kit.of('device.offline')).toMatchObject([{ deviceId: 'W-1' }]);
    expect(kit.engine.judgement('rs_1')!.offlineDevices).toEqual(['W-1']);
    kit.heartbeat('W-1', t0 + 25 * MIN);
    expect(kit.engine.judgement('rs_1')!.offlineDevices).toEqual([]);
  });

  it('is inactive while the absence rule is raised, and not once there is movement again', () => {
    const kit = new EngineKit();
    kit.telemetry('E-LIV', t0, { motion: true });
    kit.heartbeats(t0, t0 + 20 * HOUR, 5 * MIN);
    expect(kit.of('absence.routine')).toHaveLength(1);
    expect(kit.engine.judgement('rs_1')!.inactive).toBe(true);
    kit.telemetry('E-LIV', t0 + 20 * HOUR, { motion: true });
    expect(kit.engine.judgement('rs_1')!.inactive).toBe(false);
  });
});
