// A resident's own trends over 30 or 90 days, for staff (never alerted): motion events and steps, nights
// (time in bed, bathroom visits, the door opened), water used and resting heart rate, per local day, with
// the weeks that depart from the resident's own earlier weeks marked, as early signs of decline. Each
// reading is one store query for the whole period: the wearable's and meter's for all of the resident's
// devices at once, the room sensors' one per device (the store selects by device, not by room).
import { clockFor, inWindow, type DailyWindow } from '../../alerting/rules/local-time.ts';
import type { TelemetryQuery, TelemetryStore, TimeValue } from '../../ingest/store/types.ts';
import { dailyActivity, type Room, type RoomEvent } from './nights.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The rules' defaults (absence.routine.sleep, absence.nightDoor.window), for a home given without them. */
export const DEFAULT_SLEEP: DailyWindow = { from: 22 * 60, to: 7 * 60 };
export const DEFAULT_NIGHT_DOOR: DailyWindow = { from: 22 * 60, to: 6 * 60 };
/** Rows per store query; a device with more in the period is read in further pages. */
const PAGE = 100_000;
/** A week departs when it is this many standard deviations from the earlier weeks' mean... */
const DEPARTURE_SD = 2;
/** ...and at least this far from it in relative terms (a steady series has a tiny deviation). */
const DEPARTURE_SHARE = 0.2;
/** Earlier weeks needed before a baseline is trusted. */
const BASELINE_WEEKS = 3;

export const TREND_SERIES = [
  'motionEvents',
  'steps',
  'nightInBedH',
  'nightBathroomVisits',
  'nightDoorOpenings',
  'waterLitres',
  'restingHeartRate',
] as const;
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

/** The resident's home as the room figures need it. */
export interface TrendHome {
  /** The env monitors watching the resident (their own and the home's), with the room each is in. */
  devices: readonly { id: string; room: Room | null }[];
  /** The resident's sleep window, as their rules have it (absence.routine.sleep). */
  sleep: DailyWindow;
  /** When a door opening counts as at night (absence.nightDoor.window). */
  nightDoor: DailyWindow;
}

export interface TrendRequest {
  residentId: string;
  days: 30 | 90;
  timeZone: string;
  now: number;
  /** Without it, motion, time in bed and bathroom visits are null, and the door's night is the default. */
  home?: TrendHome;
}

/** A front door as the rules take it: a door contact at the entrance, or in no room in particular. */
const isFrontDoor = (room: Room | null) => room === null || room === 'entrance';

/** Every reading of the query, in pages of PAGE rows (a busy room sensor in 90 days may pass one page). */
async function readAll(store: Pick<TelemetryStore, 'query'>, query: TelemetryQuery): Promise<TimeValue[]> {
  const out: TimeValue[] = [];
  for (let from = query.from; from < query.to;) {
    const page = await store.query({ ...query, from, limit: PAGE });
    for (const v of page) out.push(v); // not push(...page): 100,000 arguments may overflow the stack
    if (page.length < PAGE) break;
    // Readings of one device at the very same millisecond as a page's last are a corner not worth a
    // second cursor: at worst one of them is missed.
    from = page.at(-1)!.ts + 1;
  }
  return out;
}

/** Motion and door events of the home's room sensors, oldest first, and the front doors' openings. */
async function roomEvents(
  store: Pick<TelemetryStore, 'query'>,
  home: TrendHome,
  range: { from: number; to: number },
): Promise<{ events: RoomEvent[]; doorOpenings: number[] }> {
  const perDevice = await Promise.all(
    home.devices.map(async ({ id, room }) => {
      const q = { deviceId: id, ...range };
      const [events, reports, states] = await Promise.all([
        readAll(store, { ...q, field: 'event' }),
        readAll(store, { ...q, field: 'motion' }),
        isFrontDoor(room) ? readAll(store, { ...q, field: 'state' }) : [],
      ]);
      const out: RoomEvent[] = [];
      for (const e of events)
        if (e.value === 'motion' || e.value === 'door') out.push({ ts: e.ts, room, kind: e.value });
      for (const r of reports) if (r.value === true) out.push({ ts: r.ts, room, kind: 'motion' });
      return { out, openings: states.filter((s) => s.value === 'open').map((s) => s.ts) };
    }),
  );
  return {
    events: perDevice.flatMap((d) => d.out).sort((a, b) => a.ts - b.ts),
    doorOpenings: perDevice.flatMap((d) => d.openings),
  };
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
  const home = request.home;
  const [steps, heart, litres, door, rooms] = await Promise.all([
    hourly('steps', 'max'),
    hourly('heartRate', 'mean'),
    hourly('litres', 'max'),
    readAll(store, { residentId, field: 'door', from, to }),
    home ? roomEvents(store, home, { from, to }) : { events: [], doorOpenings: [] },
  ]);

  const meter = perLocalDay(litres, timeZone, (xs) => Math.max(...xs));
  // Door openings: the door field of the resident's readings and the front doors' door events, each once.
  const openings = new Set([
    ...door.filter((d) => d.value === 'open').map((d) => d.ts),
    ...rooms.doorOpenings,
  ]);
  const nightDoor = home?.nightDoor ?? DEFAULT_NIGHT_DOOR;
  const night = new Map<number, number>();
  for (const ts of openings) {
    const minute = clock.minuteOfDay(ts);
    if (!inWindow(minute, nightDoor)) continue;
    // A night belongs to the day it began on: 02:00 counts for the evening before.
    const day = clock.day(ts) - (nightDoor.from > nightDoor.to && minute < nightDoor.to ? 1 : 0);
    night.set(day, (night.get(day) ?? 0) + 1);
  }
  const dayNumbers = Array.from({ length: request.days }, (_, i) => firstDay + i);
  const activity = dailyActivity({
    events: rooms.events,
    clock,
    sleep: home?.sleep ?? DEFAULT_SLEEP,
    days: dayNumbers,
    now: request.now,
    rooms: new Set(home?.devices.map((d) => d.room) ?? []),
  });
  const at = (values: (number | null)[]) => (day: number) => values[day - firstDay] ?? null;
  const perDay = {
    steps: perLocalDay(steps, timeZone, (xs) => Math.max(...xs)),
    // The lowest hourly mean of the day: the pulse at rest, usually asleep.
    heart: perLocalDay(heart, timeZone, (xs) => Math.min(...xs)),
  };
  const daily: Record<TrendSeries, (day: number) => number | null> = {
    motionEvents: at(activity.motionEvents),
    nightInBedH: at(activity.nightInBedH),
    nightBathroomVisits: at(activity.nightBathroomVisits),
    steps: (day) => perDay.steps.get(day) ?? null,
    restingHeartRate: (day) => perDay.heart.get(day) ?? null,
    waterLitres: (day) => {
      const today = meter.get(day);
      const before = meter.get(day - 1);
      return today === undefined || before === undefined ? null : Math.max(0, today - before);
    },
    // With no door reading at all there is nothing to count; otherwise a night without one is 0.
    nightDoorOpenings: (day) => (openings.size === 0 ? null : (night.get(day) ?? 0)),
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
