// Absence: no sign of life at home for longer than this resident's routine allows for a quiet period
// starting at that hour. Until the routine is learned (minDays of history, enough quiet periods around
// that hour), a fixed limit (telecare's 12 h) applies, stretched for a quiet period that starts in the
// sleep window so it may last until the window's end plus a grace. A resident who went out through the
// front door is not inactive at home. Also here: the front door opened at night.
import { formatTimeOfDay, inWindow, minutesLeftInWindow } from './local-time.ts';
import { Routine, slotOf, type RoutineState } from './routine.ts';
import type { Subject } from './subject.ts';
import { Timer } from './timers.ts';

const MIN_MS = 60_000;
const HOUR_MS = 3_600_000;
export const ABSENCE_RULE = 'absence.routine';

export interface AbsenceState {
  routine: RoutineState;
}

export class AbsenceRule {
  readonly routine = new Routine();
  private readonly timer = new Timer((at) => this.onTimer(at));

  constructor(private readonly subject: Subject) {}

  /** Called with each new sign of life; `previous` is the one before, `wasOut` whether the gap was spent out. */
  onActivity(ts: number, previous: number, wasOut: boolean): void {
    const cfg = this.subject.rules.absence.routine;
    const clock = this.subject.clock;
    const gap = ts - previous;
    if (!wasOut && gap > 0) this.routine.quietPeriod(clock, previous, gap);
    if (this.subject.outlet.level(ABSENCE_RULE) >= 0) {
      this.subject.clear(ABSENCE_RULE, 'home', {
        at: ts,
        deviceId: null,
        summary: `activity again after ${(gap / HOUR_MS).toFixed(1)} h`,
        evidence: { inactiveH: round(gap / HOUR_MS) },
        autoClear: true,
      });
    }
    if (cfg.enabled) this.subject.timers.scheduleNoLaterThan(this.timer, ts + this.limitMs(ts));
  }

  /**
   * How long a quiet period starting at `start` may last: the learned limit (the fixed fallback until it
   * is trusted), and in the sleep window never less than the rest of the window plus the wake grace:
   * sleep is not inactivity, and a night without a trip to the bathroom is not an emergency.
   */
  limitMs(start: number): number {
    const cfg = this.subject.rules.absence.routine;
    const learned = this.learnedLimitMs(start);
    const limit = Number.isNaN(learned) ? cfg.fallbackH * HOUR_MS : learned;
    const minute = this.subject.clock.minuteOfDay(start);
    if (!inWindow(minute, cfg.sleep)) return limit;
    return Math.max(limit, (minutesLeftInWindow(minute, cfg.sleep) + cfg.wakeGraceMin) * MIN_MS);
  }

  /** The learned limit for a quiet period starting at `start`, NaN while not trusted. */
  private learnedLimitMs(start: number): number {
    const cfg = this.subject.rules.absence.routine;
    if (!cfg.learned.enabled) return NaN;
    return this.routine.limitMs(slotOf(this.subject.clock, start), cfg.learned);
  }

  /** After a restart or a rules change: the deadline of the quiet period going on now. */
  rearm(now: number): void {
    this.routine.invalidate();
    const last = this.subject.lastActivity;
    if (!this.subject.rules.absence.routine.enabled || Number.isNaN(last)) {
      this.subject.timers.cancel(this.timer);
      return;
    }
    this.subject.timers.schedule(this.timer, Math.max(now, last + this.limitMs(last)));
  }

  toJSON(): AbsenceState {
    return { routine: this.routine.toJSON() };
  }

  restore(s: AbsenceState): void {
    this.routine.restore(s.routine);
  }

  private onTimer(at: number): void {
    const cfg = this.subject.rules.absence.routine;
    const last = this.subject.lastActivity;
    if (!cfg.enabled || Number.isNaN(last)) return;
    const limit = this.limitMs(last);
    if (last + limit > at) {
      this.subject.timers.schedule(this.timer, last + limit);
      return;
    }
    // Out of the home: no alert; the next sign of life starts a new quiet period.
    if (this.subject.isOut(at)) return;
    const learned = !Number.isNaN(this.learnedLimitMs(last));
    this.subject.raise(ABSENCE_RULE, 'home', cfg.severity, {
      at,
      deviceId: null,
      summary: `no activity at home for ${((at - last) / HOUR_MS).toFixed(1)} h (${learned ? 'learned routine allows' : 'limit'} ${(limit / HOUR_MS).toFixed(1)} h)`,
      evidence: {
        lastActivity: last,
        inactiveH: round((at - last) / HOUR_MS),
        limitH: round(limit / HOUR_MS),
        learned,
        daysOfHistory: this.routine.daysSeen,
      },
      autoClear: true,
    });
  }
}

export function frontDoorOpened(subject: Subject, ts: number, deviceId: string): void {
  const cfg = subject.rules.absence.nightDoor;
  if (!cfg.enabled) return;
  const minute = subject.clock.minuteOfDay(ts);
  if (!inWindow(minute, cfg.window)) return;
  const local = formatTimeOfDay(minute);
  subject.raise(
    'absence.night_door',
    deviceId,
    cfg.severity,
    {
      at: ts,
      deviceId,
      summary: `front door opened at night (${local})`,
      evidence: { localTime: local },
      autoClear: false,
    },
    true,
  );
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
