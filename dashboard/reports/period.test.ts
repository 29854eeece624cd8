// Months and days in a community's own zone, across a daylight-saving change.
import { describe, expect, it } from 'vitest';
import { daysOf, monthPeriod, offsetRanges } from './period.ts';

describe('report periods', () => {
  it('run from local midnight to local midnight, across a DST change', () => {
    const march = monthPeriod('2026-03', 'Europe/Berlin');
    expect(march).toEqual({
      from: Date.parse('2026-03-01T00:00:00+01:00'),
      to: Date.parse('2026-04-01T00:00:00+02:00'),
    });
    expect(daysOf(march, 'Europe/Berlin')).toHaveLength(31);
    expect(offsetRanges(march, 'Europe/Berlin')).toEqual([
      { from: march.from, to: Date.parse('2026-03-29T01:00:00Z'), offsetMs: 3_600_000 },
      { from: Date.parse('2026-03-29T01:00:00Z'), to: march.to, offsetMs: 7_200_000 },
    ]);
  });

  it('keep one offset where the zone has one, and refuse a malformed month', () => {
    const nov = monthPeriod('2026-11', 'Asia/Shanghai');
    expect(offsetRanges(nov, 'Asia/Shanghai')).toEqual([{ ...nov, offsetMs: 8 * 3_600_000 }]);
    expect(daysOf(nov, 'Asia/Shanghai')[29]).toBe('2026-11-30');
    expect(() => monthPeriod('2026-1', 'Asia/Shanghai')).toThrow(/YYYY-MM/);
  });
});
