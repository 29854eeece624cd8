// Simulated time against the wall clock: faster than real time while in the past, never ahead of now.
import { describe, expect, it } from 'vitest';
import { SimClock } from './clock.ts';

const HOUR = 3600_000;

describe('the simulation clock', () => {
  it('runs `speed` times faster from a start in the past, then keeps to real time once it has caught up', () => {
    let wall = 1_000_000_000;
    const clock = new SimClock(wall - HOUR, 60, () => wall);
    expect(clock.now()).toBe(wall - HOUR);
    wall += 30_000; // half a minute of wall time is half an hour simulated
    expect(clock.now()).toBe(wall - 30_000 - HOUR / 2);
    wall += 60_000; // caught up: simulated time is the real time from here on
    expect(clock.now()).toBe(wall);
    wall += 5000;
    expect(clock.now()).toBe(wall);
  });

  it('says how long to wait for a simulated moment, in wall-clock time, and never runs ahead of now', () => {
    const wall = 1_000_000_000;
    const clock = new SimClock(wall - HOUR, 60, () => wall);
    expect(clock.delayUntil(wall - HOUR + 60_000)).toBe(1000); // a simulated minute is a second
    expect(clock.delayUntil(wall - HOUR)).toBe(0);
    expect(clock.delayUntil(wall)).toBe(60_000);
    const fast = new SimClock(wall - 60_000, 1000, () => wall);
    expect(fast.delayUntil(wall + 10_000)).toBe(10_000);
    expect(new SimClock(wall, Infinity, () => wall).delayUntil(wall + 500)).toBe(500);
  });
});
