import { describe, expect, it } from 'vitest';
import { EngineKit, at } from '../test-kit.ts';

const methane = (kit: EngineKit, ts: number, lel: number) =>
  kit.telemetry('G-1', ts, { gas: 'methane', concentration: lel, unit: '%LEL' });

describe('threshold with hold time and hysteresis (gas % LEL)', () => {
  const t0 = at(0, '12:00');

  it('does not alert on a steam spike shorter than the hold time', () => {
    const kit = new EngineKit();
    methane(kit, t0, 2);
    methane(kit, t0 + 1000, 35);
    methane(kit, t0 + 6000, 30);
    methane(kit, t0 + 9000, 3);
    kit.advanceTo(t0 + 60_000);
    expect(kit.of('gas.methane')).toEqual([]);
  });

  it('raises the alarm level once the value has stayed above it for the hold time', () => {
    const kit = new EngineKit();
    for (let s = 0; s <= 20; s += 2) methane(kit, t0 + s * 1000, 30);
    const [raise, ...more] = kit.of('gas.methane');
    expect(more).toEqual([]);
    expect(raise).toMatchObject({ severity: 'alarm', at: t0 + 10_000, deviceId: 'G-1', autoClear: true });
    expect(raise!.evidence).toMatchObject({ value: 30, threshold: 25, holdS: 10 });
  });

  it('raises on time from a timer when the detector reports only on change', () => {
    const kit = new EngineKit();
    methane(kit, t0, 27);
    kit.advanceTo(t0 + 9_999);
    expect(kit.of('gas.methane')).toEqual([]);
    kit.advanceTo(t0 + 10_000);
    expect(kit.of('gas.methane').map((s) => [s.severity, s.at])).toEqual([['alarm', t0 + 10_000]]);
  });

  it('rises through the levels, keeps the highest on the way down and clears only past the hysteresis', () => {
    const kit = new EngineKit();
    methane(kit, t0, 12);
    methane(kit, t0 + 10_000, 12); // warning
    methane(kit, t0 + 20_000, 55);
    methane(kit, t0 + 30_000, 55); // critical
    methane(kit, t0 + 40_000, 20); // below alarm: stays critical
    methane(kit, t0 + 50_000, 9); // below 10 but within the hysteresis of 2
    expect(kit.of('gas.methane').map((s) => s.severity)).toEqual(['warning', 'critical']);
    expect(kit.of('gas.methane', 'clear')).toEqual([]);
    methane(kit, t0 + 60_000, 7.9);
    expect(kit.of('gas.methane', 'clear')).toMatchObject([{ at: t0 + 60_000, severity: 'critical' }]);
  });

  it("treats the detector's own gas alarm as an alarm at once", () => {
    const kit = new EngineKit();
    kit.event('G-1', t0, { type: 'gas_alarm', gas: 'lpg', concentration: 26, unit: '%LEL' });
    expect(kit.of('gas.lpg')).toMatchObject([{ severity: 'alarm', at: t0 }]);
  });

  it('honours a per-resident hold time from the rules file', () => {
    const kit = new EngineKit(
      undefined,
      'residents:\n  rs_1:\n    gas:\n      methane:\n        holdS: 30\n',
    );
    for (let s = 0; s <= 40; s += 5) methane(kit, t0 + s * 1000, 30);
    expect(kit.of('gas.methane').map((s) => s.at)).toEqual([t0 + 30_000]);
  });
});

describe('threshold: room temperature by day and night', () => {
  const temp = (kit: EngineKit, device: string, ts: number, c: number) =>
    kit.telemetry(device, ts, { temperature: c });

  it('warns of a cold room held below 18 C for the hold time, and clears when it is warm again', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 40; m += 10) temp(kit, 'E-LIV', at(0, '09:00') + m * 60_000, 16.5);
    expect(kit.of('climate.cold')).toMatchObject([{ severity: 'warning', at: at(0, '09:30') }]);
    temp(kit, 'E-LIV', at(0, '10:00'), 18.2);
    expect(kit.of('climate.cold', 'clear')).toHaveLength(0); // within the 0.5 C hysteresis
    temp(kit, 'E-LIV', at(0, '10:10'), 18.6);
    expect(kit.of('climate.cold', 'clear')).toHaveLength(1);
  });

  it('allows 28 C by day but warns of it at night (WHO: 32 C by day, 24 C at night, in local time)', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 60; m += 10) temp(kit, 'E-BED', at(0, '15:00') + m * 60_000, 28);
    expect(kit.of('climate.hot')).toEqual([]);
    for (let m = 0; m <= 60; m += 10) temp(kit, 'E-BED', at(0, '22:30') + m * 60_000, 28);
    expect(kit.of('climate.hot')).toMatchObject([{ at: at(0, '23:00'), evidence: { threshold: 24 } }]);
  });

  it('keeps one cold alert open while any room is cold', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 30; m += 10) {
      temp(kit, 'E-LIV', at(0, '09:00') + m * 60_000, 16);
      temp(kit, 'E-BED', at(0, '09:00') + m * 60_000, 16);
    }
    temp(kit, 'E-LIV', at(0, '10:00'), 21);
    expect(kit.of('climate.cold', 'clear')).toEqual([]);
    temp(kit, 'E-BED', at(0, '10:00'), 21);
    expect(kit.of('climate.cold', 'clear')).toHaveLength(1);
  });
});
