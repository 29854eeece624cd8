import { describe, expect, it } from 'vitest';
import { LocalClock, inWindow } from './local-time.ts';

const shanghai = new LocalClock('Asia/Shanghai');

describe('local time of day', () => {
  it('reads the hour, minute and weekday in the home’s zone', () => {
    const ts = Date.UTC(2025, 0, 10, 23, 30); // Friday 23:30 UTC = Saturday 07:30 in Shanghai
    expect(shanghai.minuteOfDay(ts)).toBe(7 * 60 + 30);
    expect(shanghai.hour(ts)).toBe(7);
    expect(shanghai.isWeekend(ts)).toBe(true);
    expect(shanghai.isWeekend(ts - 8 * 3_600_000)).toBe(false);
  });

  it('follows daylight saving time where the zone has it', () => {
    const berlin = new LocalClock('Europe/Berlin');
    expect(berlin.hour(Date.UTC(2025, 2, 30, 0, 30))).toBe(1); // CET
    expect(berlin.hour(Date.UTC(2025, 2, 30, 1, 30))).toBe(3); // CEST from 01:00 UTC
  });

  it('handles windows that wrap past midnight', () => {
    const night = { from: 22 * 60, to: 6 * 60 };
    expect(inWindow(23 * 60, night)).toBe(true);
    expect(inWindow(5 * 60 + 59, night)).toBe(true);
    expect(inWindow(6 * 60, night)).toBe(false);
    expect(inWindow(12 * 60, { from: 8 * 60, to: 21 * 60 })).toBe(true);
  });

  it('adds time counted only inside a daily window', () => {
    const day = { from: 8 * 60, to: 21 * 60 };
    const start = Date.UTC(2025, 0, 6, 12); // 20:00 local
    const end = shanghai.addWindowTime(start, 3 * 3_600_000, day);
    expect(end).toBe(Date.UTC(2025, 0, 7, 2)); // 10:00 local next day: 1 h that evening, 2 h next morning
  });
});
