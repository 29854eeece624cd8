import { describe, expect, it } from 'vitest';
import { HOUR, MIN, at } from '../test-kit.ts';
import { clockFor } from './local-time.ts';
import { Routine, slotOf, type RoutineLimits } from './routine.ts';

const clock = clockFor('Asia/Shanghai');
const limits = (minSamples: number): RoutineLimits => ({
  minDays: 14,
  minSamples,
  percentile: 0.9,
  margin: 1.25,
  floorH: 3,
  ceilingH: 16,
});

/** 16 days from a Monday: a 6 h quiet period from 10:00 on weekdays, never more than 20 min at weekends. */
function learned(): Routine {
  const routine = new Routine();
  for (let day = 0; day < 17; day++) {
    const weekend = day % 7 >= 5;
    for (let hour = 7; hour < 22; hour++) {
      const start = at(day, `${String(hour).padStart(2, '0')}:00`);
      routine.quietPeriod(clock, start, hour === 10 ? (weekend ? 20 * MIN : 6 * HOUR) : 5 * MIN);
    }
  }
  return routine;
}

describe('learned routine: thin slots', () => {
  const saturday10 = slotOf(clock, at(12, '10:00'));

  it('trusts a slot with enough quiet periods of its own day type', () => {
    const routine = learned();
    // Weekdays: the 10:00 slot and its neighbours hold 36 values, 12 of them 6 h.
    expect(routine.limitMs(slotOf(clock, at(14, '10:00')), limits(30))).toBeGreaterThan(7 * HOUR);
  });

  it('lets a weekend slot with a handful of days borrow from all days rather than trust a guess', () => {
    const own = learned();
    // Four weekend days (12 values around 10:00) taken alone: the 3 h floor, as if she never rested then.
    expect(own.limitMs(saturday10, limits(12))).toBe(3 * HOUR);
    // With 40 values wanted, the weekdays' 6 h rests count too.
    const borrowed = learned();
    expect(borrowed.limitMs(saturday10, limits(40))).toBeGreaterThan(6 * HOUR);
  });

  it('is not trusted before minDays, however the slots are pooled', () => {
    const routine = new Routine();
    for (let day = 0; day < 5; day++) routine.quietPeriod(clock, at(day, '10:00'), 2 * HOUR);
    expect(routine.limitMs(slotOf(clock, at(5, '10:00')), limits(1))).toBeNaN();
  });
});
