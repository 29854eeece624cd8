// Falls, confirmed before anyone is called: real-world fall detection finds about half of real falls
// with up to 85 false alarms a day (Bagala 2012). A fall the wearer cancels within the device's window
// (plus a grace for the cancellation to arrive) is recorded as an info signal, not an alert. One not
// cancelled in time is an alarm; no movement in the home for noMovementMin after the window raises it to
// critical, since most people who lie on the floor for long do not press their button.
import type { Subject } from './subject.ts';
import { Timer } from './timers.ts';

const MIN_MS = 60_000;
export const FALL_RULE = 'event.fall';
export const FALL_CANCELLED_RULE = 'event.fall_cancelled';

interface PendingFall {
  seq: number;
  ts: number;
  deviceId: string;
  confidence: number;
  /** End of the wearer's cancel window. */
  windowEnd: number;
  /** When it is confirmed if not cancelled: the window plus the grace. */
  confirmAt: number;
}

export interface FallState {
  pending: PendingFall[];
  watching: PendingFall | null;
}

export interface FallReport {
  seq: number;
  confidence: number;
  cancellable: boolean;
  cancelWindowS?: number | undefined;
}

export class FallRule {
  private pending: PendingFall[] = [];
  /** The last confirmed fall, watched for movement until noMovementMin after its window. */
  private watching: PendingFall | null = null;
  private readonly confirmTimer = new Timer((at) => this.onConfirmTimer(at));
  private readonly movementTimer = new Timer((at) => this.onMovementTimer(at));

  constructor(private readonly subject: Subject) {}

  detected(fall: FallReport, ts: number, deviceId: string): void {
    const cfg = this.subject.rules.events.fall;
    const windowS = fall.cancellable ? (fall.cancelWindowS ?? cfg.confirmWindowS) : 0;
    const p: PendingFall = {
      seq: fall.seq,
      ts,
      deviceId,
      confidence: fall.confidence,
      windowEnd: ts + windowS * 1000,
      confirmAt: windowS === 0 ? ts : ts + (windowS + cfg.graceS) * 1000,
    };
    if (windowS === 0) {
      this.confirm(p, ts, 'the wearer could not cancel it');
      return;
    }
    this.pending.push(p);
    this.subject.timers.scheduleNoLaterThan(this.confirmTimer, p.confirmAt);
  }

  cancelled(fallSeq: number, ts: number, deviceId: string): void {
    const i = this.pending.findIndex((p) => p.seq === fallSeq && p.deviceId === deviceId);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1) as [PendingFall];
    this.rescheduleConfirm();
    this.subject.raise(
      FALL_CANCELLED_RULE,
      deviceId,
      'info',
      {
        at: ts,
        deviceId,
        summary: `fall detected and cancelled by the wearer after ${Math.round((ts - p.ts) / 1000)} s`,
        evidence: { fallSeq, detectedAt: p.ts, confidence: p.confidence },
        autoClear: true,
      },
      true,
    );
  }

  /** After a restart or a rules change; timers already overdue fire on the engine's next advance. */
  rearm(): void {
    this.rescheduleConfirm();
    this.rescheduleMovement();
  }

  toJSON(): FallState {
    return { pending: this.pending, watching: this.watching };
  }

  restore(s: FallState): void {
    this.pending = s.pending;
    this.watching = s.watching;
  }

  private onConfirmTimer(at: number): void {
    const due = this.pending.filter((p) => p.confirmAt <= at);
    this.pending = this.pending.filter((p) => p.confirmAt > at);
    for (const p of due) this.confirm(p, at, 'not cancelled by the wearer');
    this.rescheduleConfirm();
  }

  private confirm(p: PendingFall, at: number, why: string): void {
    const cfg = this.subject.rules.events.fall;
    this.subject.raise(
      FALL_RULE,
      p.deviceId,
      cfg.severity,
      {
        at,
        deviceId: p.deviceId,
        summary: `fall detected, ${why}`,
        evidence: { fallSeq: p.seq, detectedAt: p.ts, confidence: p.confidence },
        autoClear: false,
      },
      true,
    );
    this.watching = p;
    this.rescheduleMovement();
  }

  private onMovementTimer(at: number): void {
    const p = this.watching;
    if (!p) return;
    this.watching = null;
    const last = this.subject.lastActivity;
    if (last > p.windowEnd) return;
    const minutes = Math.round((at - p.windowEnd) / MIN_MS);
    this.subject.raise(FALL_RULE, p.deviceId, 'critical', {
      at,
      deviceId: p.deviceId,
      summary: `fall not cancelled and no movement at home for ${minutes} min since`,
      evidence: { fallSeq: p.seq, detectedAt: p.ts, confidence: p.confidence, noMovementMin: minutes },
      autoClear: false,
    });
  }

  private rescheduleConfirm(): void {
    let due = Infinity;
    for (const p of this.pending) due = Math.min(due, p.confirmAt);
    this.subject.timers.schedule(this.confirmTimer, due);
  }

  private rescheduleMovement(): void {
    const p = this.watching;
    const due = p ? p.windowEnd + this.subject.rules.events.fall.noMovementMin * MIN_MS : Infinity;
    this.subject.timers.schedule(this.movementTimer, due);
  }
}
