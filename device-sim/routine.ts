// A resident's day, from waking to waking the next morning: the bathroom after getting up, three meals in
// the kitchen, hours in the living room with bathroom visits, an outing on some days, a nap on some
// afternoons, then sleep with a night-time bathroom visit on some nights. Each day is drawn from its own
// seeded stream, so a day is the same whichever hour a run starts in.
import type { SimResident } from './community.ts';
import { rngFor } from './random.ts';
import { MINUTE, localDay, localMidnight } from './time.ts';

export type Place = 'bedroom' | 'kitchen' | 'bathroom' | 'living' | 'out';
export type Activity = 'still' | 'light' | 'moderate' | 'vigorous';

export interface Segment {
  start: number;
  end: number;
  place: Place;
  activity: Activity;
  asleep?: boolean;
  cooking?: boolean;
  /** Water drawn when the segment starts (toilet, wash, shower, cooking). */
  waterLitres?: number;
}

export interface DayPlan {
  start: number;
  end: number;
  segments: Segment[];
  /** The wearable comes off to charge in the hour before bed. */
  charging: { from: number; to: number };
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

/** Minutes after local midnight at which the resident gets up on `day`. */
function wakeMinute(r: SimResident, seed: number, day: number): number {
  return clamp(r.routine.wakeMin + rngFor(seed, 'wake', r.index, day).normal(0, 15), 270, 540);
}

/** The plan of `day`: from that morning's waking to the next morning's. */
export function planDay(r: SimResident, seed: number, day: number, utcOffsetMin: number): DayPlan {
  const rng = rngFor(seed, 'plan', r.index, day);
  const wake = wakeMinute(r, seed, day);
  const nextWake = 1440 + wakeMinute(r, seed, day + 1);
  const bed = clamp(r.routine.bedMin + rng.normal(0, 20), 19 * 60, nextWake - 300);
  const segments: Omit<Segment, 'start' | 'end'>[] = [];
  const bounds: [number, number][] = [];
  let t = wake;
  const add = (minutes: number, seg: Omit<Segment, 'start' | 'end'>) => {
    if (minutes <= 0) return;
    segments.push(seg);
    bounds.push([t, t + minutes]);
    t += minutes;
  };
  const living = () => ({
    place: 'living' as const,
    activity: rng.chance(0.6) ? ('still' as const) : ('light' as const),
  });
  const bathroom = (litres: number) => ({
    place: 'bathroom' as const,
    activity: 'light' as const,
    waterLitres: litres,
  });
  // Living room until `until`, with a bathroom visit every two to three hours.
  const fillUntil = (until: number) => {
    while (t < until) {
      const gap = rng.range(100, 180);
      if (t + gap + 10 >= until) {
        add(until - t, living());
        return;
      }
      add(gap, living());
      add(rng.range(4, 9), bathroom(9));
    }
  };
  const outing = () =>
    add(rng.range(60, 150), { place: 'out', activity: rng.chance(0.7) ? 'moderate' : 'light' });
  const meal = (minutes: number, litres: number) =>
    add(minutes, { place: 'kitchen', activity: 'light', cooking: true, waterLitres: litres });

  add(rng.range(8, 14), bathroom(12));
  if (rng.chance(r.routine.showerChance)) add(rng.range(12, 20), bathroom(50));
  meal(rng.range(25, 35), 8);
  const goesOut = rng.chance(r.routine.outingChance)
    ? rng.chance(0.5)
      ? 'morning'
      : 'afternoon'
    : undefined;
  if (goesOut === 'morning') {
    fillUntil(Math.max(t, 9 * 60 + rng.range(0, 90)));
    outing();
  }
  fillUntil(Math.max(t, 11.5 * 60 + rng.normal(0, 15)));
  meal(rng.range(35, 45), 12);
  if (rng.chance(r.routine.napChance)) {
    add(rng.range(15, 30), living());
    add(rng.range(30, 70), { place: 'bedroom', activity: 'still', asleep: true });
  }
  if (goesOut === 'afternoon') {
    fillUntil(Math.max(t, 14.5 * 60 + rng.range(0, 90)));
    outing();
  }
  fillUntil(Math.max(t, 17.5 * 60 + rng.normal(0, 15)));
  meal(rng.range(40, 50), 15);
  fillUntil(Math.max(t, bed - 30));
  add(10, bathroom(12));
  add(Math.max(5, bed - t), { place: 'bedroom', activity: 'light' });

  const visits = rng.chance(r.routine.nightBathroomChance)
    ? rng.chance(r.routine.nightBathroomChance / 2)
      ? 2
      : 1
    : 0;
  const times = Array.from({ length: visits }, () => rng.range(t + 60, nextWake - 60)).sort((a, b) => a - b);
  for (const at of times) {
    if (at <= t) continue;
    add(at - t, { place: 'bedroom', activity: 'still', asleep: true });
    add(rng.range(4, 8), bathroom(8));
  }
  add(nextWake - t, { place: 'bedroom', activity: 'still', asleep: true });

  const midnight = localMidnight(day, utcOffsetMin);
  const ms = (minute: number) => midnight + Math.round(minute * MINUTE);
  return {
    start: ms(wake),
    end: ms(nextWake),
    segments: segments.map((s, i) => ({ ...s, start: ms(bounds[i]![0]), end: ms(bounds[i]![1]) })),
    charging: { from: ms(bed - 60), to: ms(bed) },
  };
}

/** The plan that contains `ts`: today's, or yesterday's when `ts` is before today's waking. */
export function planAt(r: SimResident, seed: number, ts: number, utcOffsetMin: number): DayPlan {
  const day = localDay(ts, utcOffsetMin);
  const today = planDay(r, seed, day, utcOffsetMin);
  return ts >= today.start ? today : planDay(r, seed, day - 1, utcOffsetMin);
}

export function segmentAt(plan: DayPlan, ts: number): Segment {
  return plan.segments.find((s) => ts >= s.start && ts < s.end) ?? plan.segments.at(-1)!;
}
