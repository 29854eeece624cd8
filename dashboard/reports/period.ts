// Report periods in a community's own time zone: a calendar month ("2026-11") or any [from, to), and
// the local days they cover.
import { clockFor } from '../../alerting/rules/local-time.ts';

const DAY_MS = 86_400_000;
export const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface Period {
  from: number;
  to: number;
}

/** The instant local midnight begins on the given calendar day in `timeZone`. */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const clock = clockFor(timeZone);
  const wall = Date.UTC(year, month - 1, day);
  // The offset at the guess, then at the corrected instant (they differ only across a zone change).
  const guess = wall - clock.offset(wall);
  return wall - clock.offset(guess);
}

/** A month written YYYY-MM, from its first local midnight to the next month's. */
export function monthPeriod(month: string, timeZone: string): Period {
  const m = MONTH_PATTERN.exec(month);
  if (!m) throw new Error(`month must be written YYYY-MM, e.g. 2026-11 (got "${month}")`);
  const year = Number(m[1]);
  const mo = Number(m[2]);
  return {
    from: localMidnight(year, mo, 1, timeZone),
    to: mo === 12 ? localMidnight(year + 1, 1, 1, timeZone) : localMidnight(year, mo + 1, 1, timeZone),
  };
}

/** Every local day that [from, to) touches, in order. */
export function daysOf(period: Period, timeZone: string): string[] {
  const clock = clockFor(timeZone);
  const first = clock.day(period.from);
  const last = clock.day(period.to - 1);
  const days: string[] = [];
  for (let d = first; d <= last; d++) days.push(new Date(d * DAY_MS).toISOString().slice(0, 10));
  return days;
}

/**
 * The period cut where the zone's offset from UTC changes (daylight saving time), so that each part
 * can be grouped into local days with one offset. Looks day by day, then for the hour within the day.
 */
export function offsetRanges(
  period: Period,
  timeZone: string,
): { from: number; to: number; offsetMs: number }[] {
  const clock = clockFor(timeZone);
  const HOUR_MS = 3_600_000;
  const ranges: { from: number; to: number; offsetMs: number }[] = [];
  let start = period.from;
  let offset = clock.offset(start);
  for (let day = start; day < period.to; day += DAY_MS) {
    const end = Math.min(day + DAY_MS, period.to - 1);
    if (clock.offset(end) === offset) continue;
    let t = Math.floor(day / HOUR_MS) * HOUR_MS;
    while (clock.offset(t) === offset) t += HOUR_MS;
    ranges.push({ from: start, to: t, offsetMs: offset });
    start = t;
    offset = clock.offset(t);
  }
  ranges.push({ from: start, to: period.to, offsetMs: offset });
  return ranges;
}
