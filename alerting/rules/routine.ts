// A resident's learned routine: how long their quiet periods normally last, by the hour of day they start
// in and by weekday or weekend (Cuddihy 2007). Each of the 48 slots keeps a histogram of quiet-period
// lengths on log-spaced bins (5 min to 48 h, 22 % apart), so memory is fixed and no reading is stored; a
// slot halves its counts when full, so recent weeks weigh more than old ones.
import type { LocalClock } from './local-time.ts';

const SLOTS = 48;
const BINS = 32;
const FIRST_EDGE_MIN = 5;
const LAST_EDGE_MIN = 48 * 60;
const RATIO = Math.pow(LAST_EDGE_MIN / FIRST_EDGE_MIN, 1 / BINS);
const SLOT_CAP = 400;
const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface RoutineLimits {
  minDays: number;
  minSamples: number;
  percentile: number;
  margin: number;
  floorH: number;
  ceilingH: number;
}

export interface RoutineState {
  /** base64 of the histogram counts. */
  counts: string;
  days: number;
  lastDay: number | null;
}

export function slotOf(clock: LocalClock, ts: number): number {
  return (clock.isWeekend(ts) ? 24 : 0) + clock.hour(ts);
}

export class Routine {
  private readonly counts = new Uint16Array(SLOTS * BINS);
  private readonly slotTotals = new Uint32Array(SLOTS);
  /** Learned limit per slot in ms, NaN when the slot is not trusted; recomputed lazily. */
  private readonly limits = new Float64Array(SLOTS).fill(NaN);
  private readonly fresh = new Uint8Array(SLOTS);
  private days = 0;
  private lastDay = NaN;

  get daysSeen(): number {
    return this.days;
  }

  noteDay(day: number): void {
    if (day > this.lastDay || Number.isNaN(this.lastDay)) {
      this.lastDay = day;
      this.days++;
    }
  }

  record(slot: number, lengthMs: number): void {
    const minutes = lengthMs / MIN_MS;
    const bin = Math.min(
      BINS - 1,
      Math.max(0, Math.floor(Math.log(minutes / FIRST_EDGE_MIN) / Math.log(RATIO))),
    );
    const base = slot * BINS;
    if (this.slotTotals[slot]! >= SLOT_CAP) {
      let total = 0;
      for (let i = base; i < base + BINS; i++) total += this.counts[i] = this.counts[i]! >> 1;
      this.slotTotals[slot] = total;
    }
    this.counts[base + bin]!++;
    this.slotTotals[slot]!++;
    // Neighbouring slots pool this one's data.
    for (const s of [slot, neighbour(slot, -1), neighbour(slot, 1)]) this.fresh[s] = 0;
  }

  /** Forget cached limits, e.g. after the rules changed. */
  invalidate(): void {
    this.fresh.fill(0);
  }

  /** The learned inactivity limit for quiet periods starting in `slot`, in ms; NaN while not trusted. */
  limitMs(slot: number, cfg: RoutineLimits): number {
    if (this.fresh[slot] === 0) {
      this.limits[slot] = this.compute(slot, cfg);
      this.fresh[slot] = 1;
    }
    return this.limits[slot]!;
  }

  toJSON(): RoutineState {
    return {
      counts: Buffer.from(this.counts.buffer, this.counts.byteOffset, this.counts.byteLength).toString(
        'base64',
      ),
      days: this.days,
      lastDay: Number.isNaN(this.lastDay) ? null : this.lastDay,
    };
  }

  restore(s: RoutineState): void {
    const bytes = Buffer.from(s.counts, 'base64');
    this.counts.set(
      new Uint16Array(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength / 2, this.counts.length)),
    );
    for (let slot = 0; slot < SLOTS; slot++) {
      let total = 0;
      for (let i = slot * BINS; i < (slot + 1) * BINS; i++) total += this.counts[i]!;
      this.slotTotals[slot] = total;
    }
    this.days = s.days;
    this.lastDay = s.lastDay ?? NaN;
    this.invalidate();
  }

  private compute(slot: number, cfg: RoutineLimits): number {
    if (this.days < cfg.minDays) return NaN;
    // A slot and its neighbours an hour either side, of the same day type: an hour alone is too few.
    const pooled = [slot, neighbour(slot, -1), neighbour(slot, 1)];
    let total = 0;
    for (const s of pooled) total += this.slotTotals[s]!;
    if (total < cfg.minSamples) return NaN;
    const wanted = cfg.percentile * total;
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      for (const s of pooled) seen += this.counts[s * BINS + bin]!;
      if (seen >= wanted) {
        const upperEdgeMin = FIRST_EDGE_MIN * Math.pow(RATIO, bin + 1);
        const limit = upperEdgeMin * MIN_MS * cfg.margin;
        return Math.min(cfg.ceilingH * HOUR_MS, Math.max(cfg.floorH * HOUR_MS, limit));
      }
    }
    return NaN;
  }
}

/** The slot an hour earlier or later, wrapping within the same day type. */
function neighbour(slot: number, delta: number): number {
  const base = slot < 24 ? 0 : 24;
  return base + ((slot - base + delta + 24) % 24);
}
