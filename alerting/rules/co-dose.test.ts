import { describe, expect, it } from 'vitest';
import { EngineKit, MIN, at } from '../test-kit.ts';

const t0 = at(0, '10:00');

/** Steady CO at `ppm` from t0, reported every `everyS` seconds for `minutes`; returns alarm minutes after t0. */
function exposure(ppm: number, minutes: number, everyS = 30): number[] {
  const kit = new EngineKit();
  kit.telemetry('G-1', t0 - 10 * MIN, { gas: 'co', concentration: 0, unit: 'ppm' });
  for (let s = 0; s <= minutes * 60; s += everyS) {
    kit.telemetry('G-1', t0 + s * 1000, { gas: 'co', concentration: ppm, unit: 'ppm' });
  }
  kit.advanceTo(t0 + minutes * MIN);
  return kit.of('gas.co').map((s) => (s.at - t0) / MIN);
}

describe('carbon monoxide dose against EN 50291', () => {
  it('30 ppm: no alarm within 120 minutes', () => {
    expect(exposure(30, 120)).toEqual([]);
  });

  it('50 ppm: alarm between 60 and 90 minutes', () => {
    const [minute] = exposure(50, 120);
    expect(minute).toBeGreaterThanOrEqual(60);
    expect(minute).toBeLessThanOrEqual(90);
  });

  it('100 ppm: alarm between 10 and 40 minutes', () => {
    const [minute] = exposure(100, 60);
    expect(minute).toBeGreaterThanOrEqual(10);
    expect(minute).toBeLessThanOrEqual(40);
  });

  it('300 ppm: alarm within 3 minutes', () => {
    const [minute] = exposure(300, 10);
    expect(minute).toBeLessThanOrEqual(3);
  });

  it('alarms at the same moment whether the detector reports every 10 s or every 5 min', () => {
    expect(exposure(100, 60, 10)).toEqual(exposure(100, 60, 300));
  });

  it('raises one alarm per incident and clears once the dose has decayed and the air is clean', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 20; m++)
      kit.telemetry('G-1', t0 + m * MIN, { gas: 'co', concentration: 200, unit: 'ppm' });
    expect(kit.of('gas.co')).toHaveLength(1);
    for (let m = 21; m <= 180; m += 5)
      kit.telemetry('G-1', t0 + m * MIN, { gas: 'co', concentration: 5, unit: 'ppm' });
    // 20 min at 200 ppm leaves a dose of about 2,800 ppm-min; decaying to 370 takes about 100 min more.
    const [clear] = kit.of('gas.co', 'clear');
    expect((clear!.at - t0) / MIN).toBeGreaterThan(110);
    expect((clear!.at - t0) / MIN).toBeLessThan(130);
    expect(kit.of('gas.co')).toHaveLength(1);
  });

  it("treats the detector's own CO alarm as an alarm at once", () => {
    const kit = new EngineKit();
    kit.event('G-1', t0, { type: 'gas_alarm', gas: 'co', concentration: 60, unit: 'ppm' });
    expect(kit.of('gas.co')).toMatchObject([{ severity: 'alarm', at: t0 }]);
  });
});
