// A resident's learned routine (Cuddihy 2007): for each hour of the day, weekday or weekend, how long
// the longest quiet period starting in that hour normally lasts. Each day contributes, for each hour, its
// longest quiet period that started then (0 when none did); the limit for an hour is a high percentile of
// those daily values, pooled with the hours either side (and wider when few, see compute). Histograms on
// log-spaced bins (5 min to 48 h, about 23 % apart) keep memory fixed; a slot halves its counts when full,
// so recent weeks weigh more.
import type { LocalClock } from './local-time.ts';

const SLOTS = 48;
const BINS = 32;
const FIRST_EDGE_MIN = 5;
const LAST_EDGE_MIN = 48 * 60;
const LOG_RATIO = Math.log(LAST_EDGE_MIN / FIRST_EDGE_MIN) / (BINS - 1);
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
  pendingDay: number | null;
  pendingWeekend: boolean;
  pendingMax: number[];
}

/** Bin 0 holds quiet periods under 5 min; bin i >= 1 those up to 5 min * ratio^i. */
function binOf(ms: number): number {
  const minutes = ms / MIN_MS;
  if (minutes < FIRST_EDGE_MIN) return 0;
  return Math.min(BINS - 1, 1 + Math.floor(Math.log(minutes / FIRST_EDGE_MIN) / LOG_RATIO));
}

function upperEdgeMs(bin: number): number {
  return FIRST_EDGE_MIN * Math.exp(LOG_RATIO * bin) * MIN_MS;
}

/** The slot an hour earlier or later, wrapping within the same day type. */
function neighbour(slot: number, delta: number): number {
  const base = slot < 24 ? 0 : 24;
  return base + ((slot - base + delta + 24) % 24);
}

export function slotOf(clock: LocalClock, ts: number): number {
  return (clock.isWeekend(ts) ? 24 : 0) + clock.hour(ts);
}

export class Routine {
  private readonly counts = new Uint16Array(SLOTS * BINS);
  private readonly slotTotals = new Uint32Array(SLOTS);
  /** Learned limit per slot in ms, NaN when not trusted; `fresh` says whether it is up to date. */
  private readonly limits = new Float64Array(SLOTS).fill(NaN);
  private readonly fresh = new Uint8Array(SLOTS);
  private days = 0;
  /** The day being gathered: its longest quiet period starting in each hour. */
  private pendingDay = NaN;
  private pendingWeekend = false;
  private readonly pendingMax = new Float64Array(24);

  get daysSeen(): number {
    return this.days;
  }

  /** A quiet period that started at `start` (local time by `clock`) has ended after `lengthMs`. */
  quietPeriod(clock: LocalClock, start: number, lengthMs: number): void {
    const day = clock.day(start);
    if (day !== this.pendingDay) {
      if (day < this.pendingDay) return; // from a day already counted
      this.commitPendingDay();
      this.pendingDay = day;
      this.pendingWeekend = clock.isWeekend(start);
      this.pendingMax.fill(0);
    }
    const hour = clock.hour(start);
    if (lengthMs > this.pendingMax[hour]!) this.pendingMax[hour] = lengthMs;
  }

  /** Forget cached limits, e.g. after the rules changed. */
  invalidate(): void {
    this.fresh.fill(0);
  }

  /** The learned limit for quiet periods starting in `slot`, in ms; NaN while not trusted. */
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
      pendingDay: Number.isNaN(this.pendingDay) ? null : this.pendingDay,
      pendingWeekend: this.pendingWeekend,
      pendingMax: [...this.pendingMax],
    };
  }

  restore(s: RoutineState): void {
    const bytes = Buffer.from(s.counts, 'base64');
    this.counts.set(
      new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + this.counts.byteLength)),
    );
    for (let slot = 0; slot < SLOTS; slot++) {
      let total = 0;
      for (let i = slot * BINS; i < (slot + 1) * BINS; i++) total += this.counts[i]!;
      this.slotTotals[slot] = total;
    }
    this.days = s.days;
    this.pendingDay = s.pendingDay ?? NaN;
    this.pendingWeekend = s.pendingWeekend;
    this.pendingMax.set(s.pendingMax);
    this.invalidate();
  }

  private commitPendingDay(): void {
    if (Number.isNaN(this.pendingDay)) return;
    this.days++;
    const base = this.pendingWeekend ? 24 : 0;
    for (let hour = 0; hour < 24; hour++) this.add(base + hour, this.pendingMax[hour]!);
    this.invalidate();
  }

  private add(slot: number, lengthMs: number): void {
    const base = slot * BINS;
    if (this.slotTotals[slot]! >= SLOT_CAP) {
      let total = 0;
      for (let i = base; i < base + BINS; i++) total += this.counts[i] = this.counts[i]! >> 1;
      this.slotTotals[slot] = total;
    }
    this.counts[base + binOf(lengthMs)]!++;
    this.slotTotals[slot]!++;
  }

  /**
   * The slot's limit from its own quiet periods and its neighbours' within `width` hours, on this day type
   * and then on both, widening until `minSamples` are pooled: a night slot (one long quiet period a
   * night) or a weekend slot (two days a week) is thin, and a percentile of few samples is a guess.
   */
  private compute(slot: number, cfg: RoutineLimits): number {
    if (this.days < cfg.minDays) return NaN;
    const other = slot < 24 ? slot + 24 : slot - 24;
    for (let width = 1; width <= 12; width++) {
      const same = this.pooledSlots(slot, width);
      if (this.total(same) >= cfg.minSamples) return this.percentileLimit(same, cfg);
      const both = [...same, ...this.pooledSlots(other, width)];
      if (this.total(both) >= cfg.minSamples) return this.percentileLimit(both, cfg);
    }
    return NaN;
  }

  private pooledSlots(slot: number, width: number): number[] {
    const slots = [slot];
    for (let d = 1; d <= width && slots.length < 24; d++) {
      slots.push(neighbour(slot, -d));
      if (slots.length < 24) slots.push(neighbour(slot, d));
    }
    return slots;
  }

  private total(slots: readonly number[]): number {
    let total = 0;
    for (const slot of slots) total += this.slotTotals[slot]!;
    return total;
  }

  private percentileLimit(slots: readonly number[], cfg: RoutineLimits): number {
    const wanted = cfg.percentile * this.total(slots);
    let seen = 0;
    for (let bin = 0; bin < BINS; bin++) {
      for (const slot of slots) seen += this.counts[slot * BINS + bin]!;
      if (seen >= wanted) {
        const limit = upperEdgeMs(bin) * cfg.margin;
        return Math.min(cfg.ceilingH * HOUR_MS, Math.max(cfg.floorH * HOUR_MS, limit));
      }
    }
    return NaN;
  }
}
