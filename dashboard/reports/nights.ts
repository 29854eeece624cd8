// Daily activity and nights from a home's room sensors: motion events per local day, time in bed and
// bathroom visits per night. Anju's protocol has no bed sensor, so "in bed" is read from the rooms: the
// resident is taken to be where the last motion or door event was seen, and time in bed is the part of
// the sleep window (the rules' absence.routine.sleep) in which that room was the bedroom. A night-time
// bathroom visit is one that begins in the window after she settled in bed. Pure functions
// over the events, so that a test can check them against arithmetic of its own.
import type { ROOMS } from '../../firmware-protocol/index.ts';
import type { DailyWindow, LocalClock } from '../../alerting/rules/local-time.ts';

export type Room = (typeof ROOMS)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Bathroom events closer together than this are one visit (a sensor fires many times in one). */
export const VISIT_GAP_MS = 10 * MINUTE_MS;
/** In the bedroom this long without a sign of her elsewhere: she has gone to bed for the night. */
export const SETTLED_MS = 30 * MINUTE_MS;
/** Where the resident was before the night began is trusted from an event at most this old. */
export const LOOKBACK_MS = 12 * HOUR_MS;

/** A sign of life from a room sensor: a motion event (or motion report) or a door changing. */
export interface RoomEvent {
  ts: number;
  room: Room | null;
  kind: 'motion' | 'door';
}

/** The instant a local day's minute begins (exact outside the hour a clock change skips or repeats). */
export function utcOf(clock: LocalClock, day: number, minuteOfDay: number): number {
  const local = day * DAY_MS + minuteOfDay * MINUTE_MS;
  return local - clock.offset(local - clock.offset(local));
}

/** The night that begins on local day `day`: its window, from its start to its end. */
export function nightOf(clock: LocalClock, day: number, w: DailyWindow): { start: number; end: number } {
  return { start: utcOf(clock, day, w.from), end: utcOf(clock, w.from < w.to ? day : day + 1, w.to) };
}

export interface NightsInput {
  /** Every room event of the home, oldest first. */
  events: readonly RoomEvent[];
  clock: LocalClock;
  sleep: DailyWindow;
  /** Local days since 1970-01-01, oldest first. */
  days: readonly number[];
  now: number;
  /** The rooms the home has a sensor in: without a bedroom there is no time in bed, and so on. */
  rooms: ReadonlySet<Room | null>;
}

export interface DailyActivity {
  motionEvents: (number | null)[];
  /** Hours. */
  nightInBedH: (number | null)[];
  nightBathroomVisits: (number | null)[];
}

/** Index of the first event at or after `ts` (events oldest first). */
function firstAtOrAfter(events: readonly RoomEvent[], ts: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bathroom visits: the first event of each run of bathroom events with gaps of at most VISIT_GAP_MS. */
export function bathroomVisitStarts(events: readonly RoomEvent[]): number[] {
  const starts: number[] = [];
  let last = -Infinity;
  for (const e of events) {
    if (e.room !== 'bathroom') continue;
    if (e.ts - last > VISIT_GAP_MS) starts.push(e.ts);
    last = e.ts;
  }
  return starts;
}

export function dailyActivity(input: NightsInput): DailyActivity {
  const { events, clock, sleep, now, rooms } = input;
  const motion = new Map<number, number>();
  for (const e of events) {
    if (e.kind !== 'motion') continue;
    const day = clock.day(e.ts);
    motion.set(day, (motion.get(day) ?? 0) + 1);
  }
  const anyMotion = events.some((e) => e.kind === 'motion');
  const visits = bathroomVisitStarts(events);

  const inBed: (number | null)[] = [];
  const bathroom: (number | null)[] = [];
  for (const day of input.days) {
    const { start, end } = nightOf(clock, day, sleep);
    const i = firstAtOrAfter(events, start);
    const previous = i > 0 ? events[i - 1]! : undefined;
    const before = previous && previous.ts >= start - LOOKBACK_MS ? previous : undefined;
    const during = i < events.length && events[i]!.ts < end;
    // A night not over yet, or one with no sign of anyone (sensors silent, nobody home), says nothing.
    if (end > now || (!before && !during)) {
      inBed.push(null);
      bathroom.push(null);
      continue;
    }
    // Walk the night: time while the last room seen is the bedroom, and when she settled in bed (the
    // first stay there of SETTLED_MS or more).
    let room = before ? before.room : null;
    let from = start;
    let ms = 0;
    // A stay in the bedroom that began before the window counts from its beginning.
    let stay: number | null = null;
    for (let j = i - 1; j >= 0 && events[j]!.room === 'bedroom' && events[j]!.ts >= start - LOOKBACK_MS; j--)
      stay = events[j]!.ts;
    let settled = Infinity;
    for (let j = i; j < events.length && events[j]!.ts < end; j++) {
      const e = events[j]!;
      if (room === 'bedroom') ms += e.ts - from;
      from = e.ts;
      room = e.room;
      if (room === 'bedroom') stay ??= e.ts;
      else if (stay !== null) {
        if (e.ts - stay >= SETTLED_MS) settled = Math.min(settled, Math.max(stay, start));
        stay = null;
      }
    }
    if (room === 'bedroom') ms += end - from;
    if (stay !== null && end - stay >= SETTLED_MS) settled = Math.min(settled, Math.max(stay, start));
    const hasBedroom = rooms.has('bedroom');
    inBed.push(hasBedroom ? Math.round((ms / HOUR_MS) * 100) / 100 : null);
    // A visit counts once she has settled in bed: the evening's wash or pills before it are not the night's.
    const after = hasBedroom ? settled : start;
    bathroom.push(
      rooms.has('bathroom') ? visits.filter((v) => v >= after && v >= start && v < end).length : null,
    );
  }
  return {
    motionEvents: input.days.map((day) => (anyMotion ? (motion.get(day) ?? 0) : null)),
    nightInBedH: inBed,
    nightBathroomVisits: bathroom,
  };
}
