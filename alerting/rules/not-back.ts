// Out and not back: a resident who went out and has not come home by her usual return time (plus a
// grace), or by night, may be lost, fallen outside or in hospital without anyone told. Her usual return
// is learned from her own outings: a percentile of the lengths of those that started around this time of
// day (all of them while those are few); before enough outings, a fixed fallback applies.
import { formatTimeOfDay, inWindow } from './local-time.ts';
import type { Outing } from './presence.ts';
import type { Subject } from './subject.ts';
import { Timer } from './timers.ts';

export const NOT_BACK_RULE = 'absence.not_back';
const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Outings remembered: about a month of a resident who goes out twice a day. */
const KEEP = 64;

export interface NotBackState {
  /** Local minute of day each outing started, oldest first. */
  startMinutes: number[];
  lengthsMin: number[];
}

export class NotBackRule {
  private startMinutes: number[] = [];
  private lengthsMin: number[] = [];
  private readonly timer = new Timer((at) => this.onTimer(at));

  constructor(private readonly subject: Subject) {}

  /** A door passage: she may be leaving; look again once the grace to tell has passed. */
  onDoor(ts: number): void {
    if (!this.subject.rules.absence.notBack.enabled) return;
    const graceMs = this.subject.rules.absence.presence.leftHomeGraceS * 1000;
    this.subject.timers.schedule(this.timer, ts + graceMs);
  }

  /** She came back: learn how long she was out, and close an alert that was raised. */
  onReturn(outing: Outing): void {
    const lengthMin = (outing.back - outing.left) / MIN_MS;
    if (lengthMin > 0 && this.subject.outlet.level(NOT_BACK_RULE) < 0) {
      this.startMinutes.push(this.subject.clock.minuteOfDay(outing.left));
      this.lengthsMin.push(lengthMin);
      if (this.startMinutes.length > KEEP) {
        this.startMinutes.shift();
        this.lengthsMin.shift();
      }
    }
    this.subject.timers.cancel(this.timer);
    if (this.subject.outlet.level(NOT_BACK_RULE) >= 0) {
      this.subject.clear(NOT_BACK_RULE, 'home', {
        at: outing.back,
        deviceId: null,
        summary: `back home after ${((outing.back - outing.left) / HOUR_MS).toFixed(1)} h out`,
        evidence: { outH: round((outing.back - outing.left) / HOUR_MS) },
        autoClear: true,
      });
    }
  }

  /** When an outing that started at `left` becomes worrying. */
  deadline(left: number): number {
    const cfg = this.subject.rules.absence.notBack;
    const usual = this.usualLengthMs(left);
    const limit = Number.isNaN(usual) ? cfg.fallbackH * HOUR_MS : usual + cfg.graceMin * MIN_MS;
    const byDay = left + Math.min(limit, cfg.ceilingH * HOUR_MS);
    return Math.min(byDay, this.byNight(left));
  }

  /** The learned length of an outing starting at `left`, NaN until enough outings were seen. */
  usualLengthMs(left: number): number {
    const cfg = this.subject.rules.absence.notBack;
    if (this.lengthsMin.length < cfg.minOutings) return NaN;
    const minute = this.subject.clock.minuteOfDay(left);
    const around = this.lengthsMin.filter((_, i) => {
      const d = Math.abs(this.startMinutes[i]! - minute);
      return Math.min(d, 1440 - d) <= cfg.aroundMin;
    });
    const sample = around.length >= cfg.minOutings ? around : this.lengthsMin;
    return quantile(sample, cfg.percentile) * MIN_MS;
  }

  rearm(now: number): void {
    const out = this.subject.outSince(now);
    if (!this.subject.rules.absence.notBack.enabled || Number.isNaN(out)) {
      const pending = this.subject.presence.pendingDecisionAt();
      if (Number.isNaN(pending) || !this.subject.hasMotionSensor) this.subject.timers.cancel(this.timer);
      else this.subject.timers.schedule(this.timer, Math.max(now, pending));
      return;
    }
    this.subject.timers.schedule(this.timer, Math.max(now, this.deadline(out)));
  }

  toJSON(): NotBackState {
    return { startMinutes: [...this.startMinutes], lengthsMin: [...this.lengthsMin] };
  }

  restore(s: NotBackState | undefined): void {
    this.startMinutes = [...(s?.startMinutes ?? [])];
    this.lengthsMin = [...(s?.lengthsMin ?? [])];
  }

  /** Out when the night starts (or a grace into it, for one who left in the night): alert then. */
  private byNight(left: number): number {
    const cfg = this.subject.rules.absence.notBack;
    const minute = this.subject.clock.minuteOfDay(left);
    if (inWindow(minute, cfg.night)) return left + cfg.graceMin * MIN_MS;
    const untilNight = (cfg.night.from - minute + 1440) % 1440;
    return Math.max(left + cfg.graceMin * MIN_MS, left + untilNight * MIN_MS - (left % MIN_MS));
  }

  private onTimer(at: number): void {
    const cfg = this.subject.rules.absence.notBack;
    if (!cfg.enabled) return;
    const left = this.subject.outSince(at);
    if (Number.isNaN(left)) return; // home after all
    const due = this.deadline(left);
    if (at < due) {
      this.subject.timers.schedule(this.timer, due);
      return;
    }
    const usual = this.usualLengthMs(left);
    const minute = this.subject.clock.minuteOfDay(left);
    this.subject.raise(NOT_BACK_RULE, 'home', cfg.severity, {
      at,
      deviceId: null,
      summary: `out since ${formatTimeOfDay(minute)} and not back after ${((at - left) / HOUR_MS).toFixed(1)} h (${
        Number.isNaN(usual)
          ? `fallback ${cfg.fallbackH} h`
          : `usually back within ${(usual / HOUR_MS).toFixed(1)} h`
      })`,
      evidence: {
        leftAt: left,
        outH: round((at - left) / HOUR_MS),
        usualH: Number.isNaN(usual) ? null : round(usual / HOUR_MS),
        outingsSeen: this.lengthsMin.length,
      },
      autoClear: true,
    });
  }
}

function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
