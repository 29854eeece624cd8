import { describe, expect, it } from 'vitest';
import { EngineKit, MIN, at } from '../test-kit.ts';

const t0 = at(0, '10:00');

/** Wearable readings every minute for `minutes` from `from`. */
function wear(kit: EngineKit, from: number, minutes: number, body: Record<string, unknown>): void {
  for (let m = 0; m <= minutes; m++) kit.telemetry('W-1', from + m * MIN, { worn: true, ...body });
}

describe('vital signs in NEWS2 bands', () => {
  it('alarms on SpO2 at or below 91 % held for 5 minutes, warns at 92-93 %', () => {
    const kit = new EngineKit();
    wear(kit, t0, 6, { spo2: 93 });
    expect(kit.of('vitals.spo2')).toMatchObject([{ severity: 'warning', at: t0 + 5 * MIN }]);
    wear(kit, t0 + 10 * MIN, 6, { spo2: 89 });
    expect(kit.of('vitals.spo2').map((s) => s.severity)).toEqual(['warning', 'alarm']);
  });

  it('does not alert on a brief SpO2 dip', () => {
    const kit = new EngineKit();
    wear(kit, t0, 2, { spo2: 88 });
    wear(kit, t0 + 3 * MIN, 10, { spo2: 97 });
    expect(kit.of('vitals.spo2')).toEqual([]);
  });

  it('alarms on a pulse of 131 or more held for 10 minutes at rest, but not during activity', () => {
    const kit = new EngineKit();
    wear(kit, t0, 15, { heartRate: 140, activity: 'moderate' });
    expect(kit.of('vitals.pulse')).toEqual([]);
    wear(kit, t0 + 20 * MIN, 10, { heartRate: 140, activity: 'still' });
    expect(kit.of('vitals.pulse')).toMatchObject([{ severity: 'alarm', at: t0 + 30 * MIN }]);
  });

  it('alarms on a pulse of 40 or less whatever the wearer is doing', () => {
    const kit = new EngineKit();
    wear(kit, t0, 10, { heartRate: 38, activity: 'light' });
    expect(kit.of('vitals.pulse')).toMatchObject([{ severity: 'alarm' }]);
  });

  it('ignores readings from a wearable that is not worn', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 20; m++)
      kit.telemetry('W-1', t0 + m * MIN, { worn: false, heartRate: 30, spo2: 70 });
    expect(kit.of('vitals.pulse')).toEqual([]);
    expect(kit.of('vitals.spo2')).toEqual([]);
  });
});

describe('vital signs against the personal baseline', () => {
  const rules = 'vitals:\n  baseline:\n    minReadings: 120\n';

  it('stops warning a wearer whose resting pulse is always high once the baseline is known', () => {
    const kit = new EngineKit(undefined, rules);
    const pulse = (m: number) => 112 + (m % 5); // 112-116 at rest, NEWS2 scores 2
    for (let m = 0; m <= 200; m++) kit.telemetry('W-1', t0 + m * MIN, { worn: true, heartRate: pulse(m) });
    // The population band warned; with 120 readings the personal band (mean +- 3 sd) takes over and clears it.
    expect(kit.of('vitals.pulse')).toMatchObject([{ severity: 'warning', at: t0 + 10 * MIN }]);
    const [cleared] = kit.of('vitals.pulse', 'clear');
    expect((cleared!.at - t0) / MIN).toBeGreaterThanOrEqual(120);
    expect((cleared!.at - t0) / MIN).toBeLessThan(130);
    expect(kit.of('vitals.pulse')).toHaveLength(1);
  });

  it("warns of a pulse far from the wearer's own resting rate that the population band allows", () => {
    const kit = new EngineKit(undefined, rules);
    for (let m = 0; m <= 200; m++)
      kit.telemetry('W-1', t0 + m * MIN, { worn: true, heartRate: 70 + (m % 5) });
    for (let m = 201; m <= 400; m++) kit.telemetry('W-1', t0 + m * MIN, { worn: true, heartRate: 95 });
    // 95 scores 1 in NEWS2 (no alert for the population) but is far above this wearer's 70-74.
    expect(kit.of('vitals.pulse')).toMatchObject([
      { severity: 'warning', at: t0 + 211 * MIN, evidence: { value: 95 } },
    ]);
  });

  it('judges skin temperature only as a departure from the wearer’s own trend', () => {
    const kit = new EngineKit(undefined, rules);
    for (let m = 0; m <= 150; m++)
      kit.telemetry('W-1', t0 + m * MIN, { worn: true, skinTemp: 33 + (m % 3) * 0.1 });
    expect(kit.of('vitals.skin_temp')).toEqual([]);
    for (let m = 151; m <= 200; m++) kit.telemetry('W-1', t0 + m * MIN, { worn: true, skinTemp: 35.5 });
    expect(kit.of('vitals.skin_temp')).toMatchObject([{ severity: 'warning' }]);
  });
});
