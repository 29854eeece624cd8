import { describe, expect, it } from 'vitest';
import { Timer, TimerQueue } from './timers.ts';

describe('event-time timer queue', () => {
  it('fires timers in due order, moved and cancelled ones included', () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const timers = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((n) => [n, new Timer((at) => fired.push(`${n}@${at}`))]),
    ) as Record<string, Timer>;
    q.schedule(timers.a!, 50);
    q.schedule(timers.b!, 10);
    q.schedule(timers.c!, 30);
    q.schedule(timers.d!, 20);
    q.schedule(timers.e!, 40);
    q.schedule(timers.a!, 5); // moved earlier
    q.schedule(timers.b!, 45); // moved later
    q.cancel(timers.c!);
    q.scheduleNoLaterThan(timers.e!, 60); // stays at 40
    for (let t = q.popDue(100); t; t = q.popDue(100)) t.fire(t.due);
    expect(fired).toEqual(['a@5', 'd@20', 'e@40', 'b@45']);
    expect(q.size).toBe(0);
  });

  it('keeps order across many random moves', () => {
    const q = new TimerQueue();
    const timers = Array.from({ length: 500 }, () => new Timer(() => {}));
    let seed = 7;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 5000; i++) q.schedule(timers[Math.floor(rand() * 500)]!, Math.floor(rand() * 1e6));
    let last = -1;
    for (let t = q.popDue(Infinity); t; t = q.popDue(Infinity)) {
      expect(t.due).toBeGreaterThanOrEqual(last);
      last = t.due;
    }
  });
});
