// Durations and points in time as people type them on the command line and in scenario files:
// `90s`, `10m`, `1h30m`, `2d`; a start `now`, `-2d` or an ISO time; a scenario time `+10m` (after the
// run starts), `02:30` (local clock time, the first one at or after the start) or an ISO time.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** `1h30m` -> 5400000. Throws on anything else, naming the accepted units. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!DURATION.test(trimmed)) {
    throw new Error(
      `"${text}" is not a duration: use a number with ms, s, m, h, d or w, e.g. 90s, 10m, 1h30m, 2d`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(total);
}

/** `+10m` or `-2d` -> signed milliseconds. */
export function parseSignedDuration(text: string): number {
  const sign = text.startsWith('-') ? -1 : 1;
  return sign * parseDuration(text.replace(/^[+-]/, ''));
}

function parseIso(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The start of a run: `now`, a signed offset from now (`-2d`), or an ISO time. */
export function parseStart(text: string, now: number): number {
  if (text === 'now') return now;
  if (/^[+-]/.test(text)) return now + parseSignedDuration(text);
  const iso = parseIso(text);
  if (iso === undefined) throw new Error(`"${text}" is not a start time: use now, -2d or an ISO time`);
  return iso;
}

/** Minutes since local midnight, with the community's fixed UTC offset (no daylight saving in China). */
export function localMinuteOfDay(ts: number, utcOffsetMin: number): number {
  const local = ts + utcOffsetMin * MINUTE;
  return (((local % DAY) + DAY) % DAY) / MINUTE;
}

/** The local calendar day, counted from 1970-01-01. */
export function localDay(ts: number, utcOffsetMin: number): number {
  return Math.floor((ts + utcOffsetMin * MINUTE) / DAY);
}

/** Unix ms of local midnight starting `day`. */
export function localMidnight(day: number, utcOffsetMin: number): number {
  return day * DAY - utcOffsetMin * MINUTE;
}

const CLOCK_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** Checks the syntax of a scenario time without resolving it. */
export function isWhen(text: string): boolean {
  if (CLOCK_TIME.test(text) || parseIso(text) !== undefined) return true;
  if (!text.startsWith('+')) return false;
  try {
    parseDuration(text.slice(1));
    return true;
  } catch {
    return false;
  }
}

/** A scenario time as Unix ms, given when the run starts and the community's UTC offset. */
export function resolveWhen(text: string, runStart: number, utcOffsetMin: number): number {
  if (text.startsWith('+')) return runStart + parseDuration(text.slice(1));
  const clock = CLOCK_TIME.exec(text);
  if (clock) {
    const minute = Number(clock[1]) * 60 + Number(clock[2]);
    const at = localMidnight(localDay(runStart, utcOffsetMin), utcOffsetMin) + minute * MINUTE;
    return at >= runStart ? at : at + DAY;
  }
  const iso = parseIso(text);
  if (iso === undefined) throw new Error(`"${text}" is not a scenario time: use +10m, 02:30 or an ISO time`);
  return iso;
}
