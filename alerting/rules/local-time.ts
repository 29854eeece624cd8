// Local time of day in a home's time zone, cheap enough for the hot path: the zone offset is looked up
// through Intl once per UTC hour and cached, so most calls are a little arithmetic.
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A daily window in minutes after local midnight; `from > to` wraps past midnight (22:00-06:00). */
export interface DailyWindow {
  from: number;
  to: number;
}

export function inWindow(minuteOfDay: number, w: DailyWindow): boolean {
  return w.from <= w.to
    ? minuteOfDay >= w.from && minuteOfDay < w.to
    : minuteOfDay >= w.from || minuteOfDay < w.to;
}

/** Minutes from `minuteOfDay` until the window's end, or 0 when outside it. */
export function minutesLeftInWindow(minuteOfDay: number, w: DailyWindow): number {
  if (!inWindow(minuteOfDay, w)) return 0;
  return (w.to - minuteOfDay + 1440) % 1440;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export class LocalClock {
  private readonly format: Intl.DateTimeFormat;
  private cachedHour = NaN;
  private cachedOffset = 0;

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Local time minus UTC at `ts`, in ms. Zone changes happen on whole UTC hours in practice. */
  offset(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    if (hour !== this.cachedHour) {
      this.cachedHour = hour;
      this.cachedOffset = this.lookUpOffset(hour * HOUR_MS);
    }
    return this.cachedOffset;
  }

  /** Local days since 1970-01-01. */
  day(ts: number): number {
    return Math.floor((ts + this.offset(ts)) / DAY_MS);
  }

  minuteOfDay(ts: number): number {
    const local = ts + this.offset(ts);
    return Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / MINUTE_MS);
  }

  hour(ts: number): number {
    return Math.floor(this.minuteOfDay(ts) / 60);
  }

  /** Saturday or Sunday, locally. 1970-01-01 was a Thursday. */
  isWeekend(ts: number): boolean {
    const weekday = (this.day(ts) + 4) % 7;
    return weekday === 0 || weekday === 6;
  }

  /**
   * The instant at which `ms` of time inside the daily window `w` will have passed since `start`.
   * Walks window by window, so it costs a few steps per day covered.
   */
  addWindowTime(start: number, ms: number, w: DailyWindow): number {
    let t = start;
    let left = ms;
    for (let guard = 0; guard < 400; guard++) {
      const minute = this.minuteOfDay(t);
      const startOfMinute = t - (t % MINUTE_MS);
      if (inWindow(minute, w)) {
        const windowEnd = startOfMinute + minutesLeftInWindow(minute, w) * MINUTE_MS;
        if (windowEnd - t >= left) return t + left;
        left -= windowEnd - t;
        t = windowEnd;
      } else {
        t = startOfMinute + ((w.from - minute + 1440) % 1440) * MINUTE_MS;
      }
    }
    return Infinity;
  }

  private lookUpOffset(ts: number): number {
    let y = 0;
    let mo = 0;
    let d = 0;
    let h = 0;
    let mi = 0;
    let s = 0;
    for (const part of this.format.formatToParts(ts)) {
      const v = Number(part.value);
      if (part.type === 'year') y = v;
      else if (part.type === 'month') mo = v;
      else if (part.type === 'day') d = v;
      else if (part.type === 'hour') h = v;
      else if (part.type === 'minute') mi = v;
      else if (part.type === 'second') s = v;
    }
    return Date.UTC(y, mo - 1, d, h, mi, s) - ts;
  }
}

const clocks = new Map<string, LocalClock>();

/** One clock per zone, shared by every home in it, so its cache stays warm. */
export function clockFor(timeZone: string): LocalClock {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new LocalClock(timeZone);
    clocks.set(timeZone, clock);
  }
  return clock;
}

/** "07:05" for minute 425 of the day: how alerts name a local time. */
export function formatTimeOfDay(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}

export function parseTimeOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
