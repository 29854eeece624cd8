// Threshold with hold time and hysteresis, in up to three levels (warning, alarm, critical). A level is
// raised only once the value has stayed past it for the hold time, so a spike shorter than the hold (steam
// over a gas sensor) raises nothing; a timer raises it on time when the device reports only on change.
// It clears once the value is back past the lowest level by the hysteresis; a fall from alarm to warning
// keeps the alert at alarm (severity only rises within one incident).
import type { Severity } from '../signals.ts';
import type { Subject } from './subject.ts';
import { Timer } from './timers.ts';

const LEVELS: readonly Severity[] = ['warning', 'alarm', 'critical'];

export interface ThresholdLabel {
  /** What is measured, for the summary: "methane", "room temperature". */
  what: string;
  unit: string;
  autoClear: boolean;
}

export interface ThresholdState {
  current: number;
  since: (number | null)[];
  thresholds: (number | null)[];
  holdMs: number;
  value: number | null;
}

export class ThresholdRule {
  /** Index into LEVELS of the raised level, -1 when clear. */
  private current = -1;
  /** Since when the value has been continuously past each level's threshold (NaN: it is not). */
  private readonly since = [NaN, NaN, NaN];
  private readonly thresholds = [NaN, NaN, NaN];
  private holdMs = 0;
  private value = NaN;
  private readonly timer = new Timer((at) => this.evaluate(at));

  /**
   * `direction` 1 judges values at or above the thresholds, -1 at or below; `strict` excludes the
   * threshold itself ("below 18 C"). A NaN threshold turns its level off.
   */
  constructor(
    private readonly subject: Subject,
    readonly ruleId: string,
    private readonly source: string,
    private readonly deviceId: string | null,
    private readonly direction: 1 | -1,
    private readonly strict: boolean,
    private readonly label: ThresholdLabel,
  ) {}

  get raised(): boolean {
    return this.current >= 0;
  }

  /** A NaN value (a reading that cannot be judged) breaks every hold without clearing. */
  observe(
    ts: number,
    value: number,
    warning: number,
    alarm: number,
    critical: number,
    holdMs: number,
    hysteresis: number,
  ): void {
    const th = this.thresholds;
    th[0] = warning;
    th[1] = alarm;
    th[2] = critical;
    this.holdMs = holdMs;
    this.value = value;
    const x = this.direction * value;
    for (let i = 0; i < 3; i++) {
      const t = this.direction * th[i]!;
      const past = this.strict ? x > t : x >= t;
      if (!past) this.since[i] = NaN;
      else if (Number.isNaN(this.since[i]!)) this.since[i] = ts;
    }
    if (this.current >= 0) {
      const lowest = this.lowestThreshold();
      if (!Number.isNaN(lowest) && x < this.direction * lowest - hysteresis) {
        this.current = -1;
        this.subject.timers.cancel(this.timer);
        this.subject.clear(this.ruleId, this.source, {
          at: ts,
          deviceId: this.deviceId,
          summary: `${this.label.what} back to ${round(value)}${this.label.unit}`,
          evidence: { value, threshold: lowest, hysteresis },
          autoClear: this.label.autoClear,
        });
        return;
      }
    }
    this.evaluate(ts);
  }

  /** Raises a level at once, without a hold: the device itself has alarmed. */
  raiseNow(ts: number, level: number, value: number, why: string): void {
    if (level <= this.current) return;
    this.current = level;
    this.value = value;
    this.send(ts, why);
  }

  dispose(): void {
    this.subject.timers.cancel(this.timer);
  }

  toJSON(): ThresholdState {
    return {
      current: this.current,
      since: this.since.map(orNull),
      thresholds: this.thresholds.map(orNull),
      holdMs: this.holdMs,
      value: orNull(this.value),
    };
  }

  restore(s: ThresholdState, now: number): void {
    this.current = s.current;
    for (let i = 0; i < 3; i++) {
      this.since[i] = s.since[i] ?? NaN;
      this.thresholds[i] = s.thresholds[i] ?? NaN;
    }
    this.holdMs = s.holdMs;
    this.value = s.value ?? NaN;
    this.evaluate(now);
  }

  private lowestThreshold(): number {
    for (let i = 0; i < 3; i++) if (!Number.isNaN(this.thresholds[i]!)) return this.thresholds[i]!;
    return NaN;
  }

  private evaluate(now: number): void {
    let next = Infinity;
    let raise = -1;
    for (let i = this.current + 1; i < 3; i++) {
      const since = this.since[i]!;
      if (Number.isNaN(since)) continue;
      if (now - since >= this.holdMs) raise = i;
      else next = Math.min(next, since + this.holdMs);
    }
    if (raise >= 0) {
      this.current = raise;
      const held = Math.round((now - this.since[raise]!) / 1000);
      this.send(now, `for ${held} s`);
    }
    this.subject.timers.schedule(this.timer, next);
  }

  private send(at: number, why: string): void {
    const level = this.current;
    const severity = LEVELS[level]!;
    const threshold = this.thresholds[level]!;
    const { what, unit } = this.label;
    const side = this.direction > 0 ? 'above' : 'below';
    this.subject.raise(this.ruleId, this.source, severity, {
      at,
      deviceId: this.deviceId,
      summary: `${what} ${round(this.value)}${unit}, ${side} the ${severity} level ${round(threshold)}${unit} ${why}`,
      evidence: { value: this.value, threshold, level: severity, holdS: this.holdMs / 1000 },
      autoClear: this.label.autoClear,
    });
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** JSON has no NaN; null reads back as NaN through `?? NaN`. */
export function orNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
