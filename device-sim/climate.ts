// Temperatures: the outdoor air by season and hour (Jiaxing's climate: about 4 C in mid-January, 29 C in
// mid-July, +-4 C over the day), and each room drifting towards what the home's heating, air
// conditioning or lack of both makes of it. A cold home (heating failed) or a heat wave changes the target;
// the room gets there over hours, as real rooms do.
import type { SimResident } from './community.ts';
import { DAY, HOUR, localMinuteOfDay } from './time.ts';

export type ClimateOverride = { kind: 'cold'; to: number } | { kind: 'heat'; peak: number };

function dayOfYear(ts: number, utcOffsetMin: number): number {
  const local = new Date(ts + utcOffsetMin * 60_000);
  return (local.getTime() - Date.UTC(local.getUTCFullYear(), 0, 1)) / DAY;
}

/** 1 at 14:00 local time, -1 at 02:00. */
function diurnal(ts: number, utcOffsetMin: number): number {
  return Math.cos((2 * Math.PI * (localMinuteOfDay(ts, utcOffsetMin) / 60 - 14)) / 24);
}

export function outdoorTemp(ts: number, utcOffsetMin: number): number {
  const seasonal = 16.5 - 12.5 * Math.cos((2 * Math.PI * (dayOfYear(ts, utcOffsetMin) - 15)) / 365);
  return seasonal + 4 * diurnal(ts, utcOffsetMin);
}

/** Relative humidity indoors: drier in winter, humid in the plum-rain summer. */
export function baseHumidity(ts: number, utcOffsetMin: number): number {
  return 52 + 10 * Math.cos((2 * Math.PI * (dayOfYear(ts, utcOffsetMin) - 196)) / 365);
}

const ROOM_OFFSET = { bedroom: 0, kitchen: 0.3, bathroom: 0.5, entrance: -0.5 } as const;

/** Where a room's temperature is heading now. */
export function roomTarget(
  home: SimResident['home'],
  room: keyof typeof ROOM_OFFSET,
  ts: number,
  utcOffsetMin: number,
  override?: ClimateOverride,
): number {
  const offset = ROOM_OFFSET[room];
  if (override?.kind === 'cold') return override.to + offset;
  if (override?.kind === 'heat') {
    // No relief from air conditioning in a heat wave: the flat follows the air outside, a degree cooler.
    return override.peak - 5 + 4 * diurnal(ts, utcOffsetMin) + offset;
  }
  const outdoor = outdoorTemp(ts, utcOffsetMin);
  const minute = localMinuteOfDay(ts, utcOffsetMin);
  const night = minute >= 21 * 60 || minute < 6 * 60;
  if (outdoor < home.heatingSetpoint - 4)
    return home.heatingSetpoint - (night ? 1 : 0) + 0.03 * (outdoor - 10) + offset;
  // Air conditioning at 25 C by day, switched to its cooler sleep setting from 20:00, before bedtime.
  const evening = minute >= 20 * 60 || minute < 6 * 60;
  if (outdoor > 26 && home.hasAc) return (evening ? 22.5 : 25) + offset;
  // Without it, fans and open windows keep a flat a little below the air outside.
  return 0.4 * outdoor + 12.5 + offset;
}

/** One step of first-order drift towards the target; a cold home cools over several hours. */
export function drift(current: number, target: number, dtMs: number, override?: ClimateOverride): number {
  const tau = override?.kind === 'cold' ? 3 * HOUR : 1.5 * HOUR;
  return target + (current - target) * Math.exp(-dtMs / tau);
}
