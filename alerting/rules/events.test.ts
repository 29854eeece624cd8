import { describe, expect, it } from 'vitest';
import { EngineKit, MIN, at } from '../test-kit.ts';

const t0 = at(0, '10:00');

describe('always-alert events', () => {
  it('makes every SOS press its own critical signal that never clears itself', () => {
    const kit = new EngineKit();
    kit.event('W-1', t0, { type: 'sos' });
    kit.event('W-1', t0 + 5000, { type: 'sos' });
    expect(kit.of('event.sos')).toMatchObject([
      { severity: 'critical', at: t0, autoClear: false, residentId: 'rs_1' },
      { severity: 'critical', at: t0 + 5000, autoClear: false },
    ]);
    kit.advanceTo(t0 + 48 * 60 * MIN);
    expect(kit.of('event.sos', 'clear')).toEqual([]);
  });

  it('raises smoke from the detector event or its telemetry once per incident, and leaves closing it to a person', () => {
    const kit = new EngineKit();
    kit.event('E-LIV', t0, { type: 'smoke_alarm' });
    kit.telemetry('E-LIV', t0 + 1000, { smoke: true });
    kit.telemetry('E-LIV', t0 + 60_000, { smoke: false });
    expect(kit.of('event.smoke')).toMatchObject([{ severity: 'critical', autoClear: false }]);
    expect(kit.of('event.smoke', 'clear')).toEqual([]);
    kit.telemetry('E-LIV', t0 + 120_000, { smoke: true });
    expect(kit.of('event.smoke')).toHaveLength(2);
  });

  it('raises a water leak and clears it when the floor is dry', () => {
    const kit = new EngineKit();
    kit.event('E-BED', t0, { type: 'water_leak' });
    kit.telemetry('E-BED', t0 + 60_000, { waterLeak: false });
    expect(kit.of('event.water_leak')).toMatchObject([{ severity: 'alarm' }]);
    expect(kit.of('event.water_leak', 'clear')).toMatchObject([{ at: t0 + 60_000 }]);
  });

  it('warns of water running without a break for a day, not for an hour', () => {
    const kit = new EngineKit();
    kit.event('M-1', t0, { type: 'continuous_flow', minutes: 60 });
    expect(kit.of('water.continuous_flow')).toEqual([]);
    kit.event('M-1', t0 + 1000, { type: 'continuous_flow', minutes: 1440 });
    expect(kit.of('water.continuous_flow')).toMatchObject([{ severity: 'warning' }]);
    kit.telemetry('M-1', t0 + 2000, { litres: 500, flowLpm: 0 });
    expect(kit.of('water.continuous_flow', 'clear')).toHaveLength(1);
  });
});

describe('falls with a confirmation window', () => {
  const fall = (kit: EngineKit, ts: number, extra: Record<string, unknown> = {}) =>
    kit.event('W-1', ts, { type: 'fall', confidence: 0.8, cancellable: true, cancelWindowS: 30, ...extra });

  it('records a fall the wearer cancels in time as info, with no alert', () => {
    const kit = new EngineKit();
    const seq = fall(kit, t0);
    kit.event('W-1', t0 + 20_000, { type: 'fall_cancelled', fallSeq: seq });
    kit.advanceTo(t0 + 30 * MIN);
    expect(kit.of('event.fall')).toEqual([]);
    expect(kit.of('event.fall_cancelled')).toMatchObject([{ severity: 'info', evidence: { fallSeq: seq } }]);
    expect(kit.alerted()).not.toContain('event.fall');
  });

  it('alarms when the fall is not cancelled by the end of the window plus the grace', () => {
    const kit = new EngineKit();
    const seq = fall(kit, t0);
    kit.advanceTo(t0 + 44_999);
    expect(kit.of('event.fall')).toEqual([]);
    kit.advanceTo(t0 + 45_000);
    expect(kit.of('event.fall')).toMatchObject([
      { severity: 'alarm', autoClear: false, evidence: { fallSeq: seq } },
    ]);
  });

  it('alarms at once for a fall the wearer cannot cancel', () => {
    const kit = new EngineKit();
    fall(kit, t0, { cancellable: false });
    expect(kit.of('event.fall')).toMatchObject([{ severity: 'alarm', at: t0 }]);
  });

  it('raises the fall to critical when nobody moves at home for 5 minutes after the window', () => {
    const kit = new EngineKit();
    kit.telemetry('E-LIV', t0 - MIN, { motion: true });
    fall(kit, t0);
    kit.telemetry('E-LIV', t0 + 10_000, { motion: true }); // the fall itself, within the window
    kit.advanceTo(t0 + 30_000 + 5 * MIN);
    expect(kit.of('event.fall').map((s) => s.severity)).toEqual(['alarm', 'critical']);
  });

  it('keeps the fall at alarm when there is movement after the window', () => {
    const kit = new EngineKit();
    fall(kit, t0);
    kit.telemetry('W-1', t0 + 2 * MIN, { steps: 120, worn: true, activity: 'light' });
    kit.advanceTo(t0 + 30 * MIN);
    expect(kit.of('event.fall').map((s) => s.severity)).toEqual(['alarm']);
  });

  it('a late cancellation does not undo the alarm', () => {
    const kit = new EngineKit();
    const seq = fall(kit, t0);
    kit.event('W-1', t0 + 60_000, { type: 'fall_cancelled', fallSeq: seq });
    expect(kit.of('event.fall')).toHaveLength(1);
    expect(kit.of('event.fall_cancelled')).toEqual([]);
  });
});
