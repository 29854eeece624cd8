import { describe, expect, it } from 'vitest';
import { EngineKit, MIN, at } from '../test-kit.ts';

const t0 = at(0, '10:00');

describe('combinations that raise severity', () => {
  const methane = (kit: EngineKit, ts: number, lel: number) =>
    kit.telemetry('G-1', ts, { gas: 'methane', concentration: lel, unit: '%LEL' });

  it('raises a gas alarm to critical when nobody has moved at home for 30 minutes', () => {
    const kit = new EngineKit();
    kit.telemetry('E-LIV', t0, { motion: true });
    for (let s = 0; s <= 40 * 60; s += 30) methane(kit, t0 + 10 * MIN + s * 1000, 30);
    expect(kit.of('gas.methane').map((s) => [s.severity, (s.at - t0) / MIN])).toEqual([
      ['alarm', 10 + 10 / 60],
      ['critical', 30],
    ]);
    methane(kit, t0 + 60 * MIN, 1);
    expect(kit.of('gas.methane', 'clear')).toHaveLength(1);
  });

  it('keeps the gas alarm at alarm while someone moves about', () => {
    const kit = new EngineKit();
    for (let m = 0; m <= 60; m += 5) {
      kit.telemetry('E-LIV', t0 + m * MIN, { motion: true });
      methane(kit, t0 + m * MIN + 1000, 30);
    }
    expect(kit.of('gas.methane').map((s) => s.severity)).toEqual(['alarm']);
  });
});
