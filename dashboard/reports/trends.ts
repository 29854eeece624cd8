// A resident's own trends over 30 or 90 days, for staff (never alerted): steps, resting heart rate,
// water used and the door opened at night, per local day, with the weeks that depart from the resident's
// own earlier weeks marked, as early signs of decline. One store query per reading, for all of the
// resident's devices at once.
import { clockFor } from '../../alerting/rules/local-time.ts';
import type { TelemetryStore, TimeValue } from '../../ingest/store/types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The door counts at night from 22:00 to 06:00 local time. */
const NIGHT_FROM_MIN = 22 * 60;
const NIGHT_TO_MIN = 6 * 60;
/** A week departs when it is this many standard deviations from the earlier weeks' mean... */
const DEPARTURE_SD = 2;
/** ...and at least this far from it in relative terms (a steady series has a tiny deviation). */
const DEPARTURE_SHARE = 0.2;
/** Earlier weeks needed before a baseline is trusted. */
const BASELINE_WEEKS = 3;

export const TREND_SERIES = ['steps', 'restingHeartRate', 'waterLitres', 'nightDoorOpenings'] as const;
export type TrendSeries = (typeof TREND_SERIES)[number];

export interface TrendWeek {
  /** First local day of the week, YYYY-MM-DD. */
  from: string;
  mean: number | null;
  /** The week differs from the resident's earlier weeks (higher or lower). */
  departure: 'higher' | 'lower' | null;
}

export interface Trend {
  series: TrendSeries;
  days: { day: string; value: number | null }[];
  weeks: TrendWeek[];
}

export interface TrendRequest {
  residentId: string;
  days: 30 | 90;
  timeZone: string;
  now: number;
}

/** Values per local day from hourly windows (or raw readings), combined by `combine`. */
function perLocalDay(
  values: readonly TimeValue[],
  timeZone: string,
  combine: (xs: number[]) => number,
): Map<number, number> {
  const clock = clockFor(timeZone);
  const byDay = new Map<number, number[]>();
  for (const v of values) {
    if (typeof v.value !== 'number') continue;
    const day = clock.day(v.ts);
    byDay.set(day, [...(byDay.get(day) ?? []), v.value]);
  }
  return new Map([...byDay].map(([day, xs]) => [day, combine(xs)]));
}

export function weeksOf(days: readonly { day: string; value: number | null }[]): TrendWeek[] {
  // Whole weeks counted back from the last day, oldest first.
  const weeks: { from: string; values: number[] }[] = [];
  for (let end = days.length; end - 7 >= 0; end -= 7) {
    const slice = days.slice(end - 7, end);
    weeks.unshift({ from: slice[0]!.day, values: slice.flatMap((d) => (d.value === null ? [] : [d.value])) });
  }
  const means = weeks.map((w) =>
    w.values.length ? w.values.reduce((a, b) => a + b, 0) / w.values.length : null,
  );
  return weeks.map((w, i) => {
    const earlier = means.slice(0, i).filter((m): m is number => m !== null);
    const mean = means[i]!;
    let departure: TrendWeek['departure'] = null;
    if (mean !== null && earlier.length >= BASELINE_WEEKS) {
      const base = earlier.reduce((a, b) => a + b, 0) / earlier.length;
      const sd = Math.sqrt(earlier.reduce((a, b) => a + (b - base) ** 2, 0) / earlier.length);
      const diff = mean - base;
      if (Math.abs(diff) > DEPARTURE_SD * sd && Math.abs(diff) > DEPARTURE_SHARE * Math.abs(base))
        departure = diff > 0 ? 'higher' : 'lower';
    }
    return { from: w.from, mean, departure };
  });
}

export async function residentTrends(
  store: Pick<TelemetryStore, 'query'>,
  request: TrendRequest,
): Promise<Trend[]> {
  const { residentId, timeZone } = request;
  const clock = clockFor(timeZone);
  const lastDay = clock.day(request.now);
  const firstDay = lastDay - request.days + 1;
  // From local midnight of the first day, and one day earlier for the water meter's previous reading.
  const from = Math.max(0, (firstDay - 1) * DAY_MS - clock.offset(firstDay * DAY_MS));
  const to = request.now + 1;
  const hourly = (field: string, fn: 'max' | 'mean') =>
    store.query({ residentId, field, from, to, every: HOUR_MS, fn, limit: 100_000 });
  const [steps, heart, litres, door] = await Promise.all([
    hourly('steps', 'max'),
    hourly('heartRate', 'mean'),
    hourly('litres', 'max'),
    store.query({ residentId, field: 'door', from, to, limit: 100_000 }),
  ]);

  const meter = perLocalDay(litres, timeZone, (xs) => Math.max(...xs));
  const night = new Map<number, number>();
  for (const d of door) {
    if (d.value !== 'open') continue;
    const minute = clock.minuteOfDay(d.ts);
    if (minute < NIGHT_FROM_MIN && minute >= NIGHT_TO_MIN) continue;
    // A night belongs to the day it began on: 02:00 counts for the evening before.
    const day = clock.day(d.ts) - (minute < NIGHT_TO_MIN ? 1 : 0);
    night.set(day, (night.get(day) ?? 0) + 1);
  }
  const perDay = {
    steps: perLocalDay(steps, timeZone, (xs) => Math.max(...xs)),
    // The lowest hourly mean of the day: the pulse at rest, usually asleep.
    heart: perLocalDay(heart, timeZone, (xs) => Math.min(...xs)),
  };
  const daily: Record<TrendSeries, (day: number) => number | null> = {
    steps: (day) => perDay.steps.get(day) ?? null,
    restingHeartRate: (day) => perDay.heart.get(day) ?? null,
    waterLitres: (day) => {
      const today = meter.get(day);
      const before = meter.get(day - 1);
      return today === undefined || before === undefined ? null : Math.max(0, today - before);
    },
    // With no door reading at all there is nothing to count; otherwise a night without one is 0.
    nightDoorOpenings: (day) => (door.length === 0 ? null : (night.get(day) ?? 0)),
  };
  return TREND_SERIES.map((series) => {
    const days = Array.from({ length: request.days }, (_, i) => {
      const day = firstDay + i;
      const value = daily[series](day);
      return { day: new Date(day * DAY_MS).toISOString().slice(0, 10), value };
    });
    return { series, days, weeks: weeksOf(days) };
  });
}
