// Whether a resident living alone is at home or out, from the order of front-door and motion events in
// the whole home (DOMAIN.md, "Inactivity and daily routine"):
// - a door passage (door events chained within `passageS`) that starts while she is out is her coming
//   home: she is home from its first door event, whatever follows, so a collapse right after coming in is
//   watched like any other;
// - a passage that starts while she is home is her leaving only if no motion anywhere inside follows its
//   last door event (from `doorSettleS`, when the entry sensor still sees her at the door, until
//   `leftHomeGraceS`); she is out from that last door event;
// - while out, one motion trigger is not a return (a sensor fault, a pet, the entry sensor seeing her at
//   the door): a second trigger at least `returnConfirmS` and at most `strayWindowMin` after the first is;
// - a telemetry report of "motion since the last report" whose interval began before the last door event
//   may be her on the way out, and counts for neither.
// Decisions are taken lazily, at the next event or when a rule asks, so they need no timers of their own.

import { orNull } from './threshold.ts';

export interface PresenceConfig {
  leftHomeGraceS: number;
  doorSettleS: number;
  passageS: number;
  returnConfirmS: number;
  strayWindowMin: number;
}

export interface PresenceState {
  outSince: number | null;
  passageEnd: number | null;
  passageFromOut: boolean;
  lastDoor: number | null;
  strayAt: number | null;
}

/** An absence that ended: when she left and when she was back. */
export interface Outing {
  left: number;
  back: number;
}

export class Presence {
  /** Out since this door event; NaN while home. */
  private outSince = NaN;
  /** The last door event of the current passage; NaN when none is open to judgement. */
  private passageEnd = NaN;
  private passageFromOut = false;
  /** The first motion trigger seen while out, waiting for a second. */
  private strayAt = NaN;
  private lastDoorAt = NaN;

  constructor(
    private readonly config: () => PresenceConfig,
    /** Called when she comes back: the outing is over. */
    private readonly onReturn: (outing: Outing) => void = () => {},
  ) {}

  /** A front-door event (opened or closed). */
  door(ts: number): void {
    const chained = ts - this.lastDoorAt <= this.config().passageS * 1000;
    const previousDoor = this.lastDoorAt;
    this.lastDoorAt = ts;
    if (chained) {
      // The same passage goes on: the door closing behind her, or opened again.
      if (!Number.isNaN(this.passageEnd)) {
        this.passageEnd = ts;
        return;
      }
      if (this.outSince === previousDoor) {
        this.outSince = ts;
        return;
      }
    }
    this.settle(ts);
    const fromOut = !Number.isNaN(this.outSince);
    if (fromOut) this.back(ts);
    this.passageEnd = ts;
    this.passageFromOut = fromOut;
  }

  /**
   * Motion anywhere inside, at `ts`, or somewhere after `since` for a report of "motion since the last
   * report": one whose interval began before the last door event may be her on the way out (or NaN: the
   * device's first report), so it tells nothing about who is in now.
   */
  motion(ts: number, since = ts): void {
    this.settle(ts);
    if (!(since >= this.lastDoorAt) && !Number.isNaN(this.lastDoorAt)) return;
    const cfg = this.config();
    if (Number.isNaN(this.outSince)) {
      // Motion after a leaving passage's settle time means she did not leave.
      if (!this.passageFromOut && ts > this.passageEnd + cfg.doorSettleS * 1000) this.closePassage();
      return;
    }
    if (ts - this.strayAt >= cfg.returnConfirmS * 1000 && ts - this.strayAt <= cfg.strayWindowMin * 60_000) {
      this.back(this.strayAt);
      return;
    }
    if (!(ts - this.strayAt < cfg.returnConfirmS * 1000)) this.strayAt = ts;
  }

  /** Out at `at`? Decides a pending leaving passage whose grace has run out. */
  isOut(at: number): boolean {
    this.settle(at);
    return !Number.isNaN(this.outSince);
  }

  /** Since when she is out at `at`, NaN when home. */
  outSinceAt(at: number): number {
    this.settle(at);
    return this.outSince;
  }

  /** When a passage that may be her leaving will be decided; NaN when none is pending. */
  pendingDecisionAt(): number {
    if (Number.isNaN(this.passageEnd) || this.passageFromOut) return NaN;
    return this.passageEnd + this.config().leftHomeGraceS * 1000;
  }

  toJSON(): PresenceState {
    return {
      outSince: orNull(this.outSince),
      passageEnd: orNull(this.passageEnd),
      passageFromOut: this.passageFromOut,
      lastDoor: orNull(this.lastDoorAt),
      strayAt: orNull(this.strayAt),
    };
  }

  restore(s: PresenceState): void {
    this.outSince = s.outSince ?? NaN;
    this.passageEnd = s.passageEnd ?? NaN;
    this.passageFromOut = s.passageFromOut;
    this.lastDoorAt = s.lastDoor ?? NaN;
    this.strayAt = s.strayAt ?? NaN;
  }

  /** A leaving passage with no motion inside until its grace ran out: she went out at its last door. */
  private settle(at: number): void {
    if (Number.isNaN(this.passageEnd) || this.passageFromOut) return;
    if (at < this.passageEnd + this.config().leftHomeGraceS * 1000) return;
    this.outSince = this.passageEnd;
    this.strayAt = NaN;
    this.closePassage();
  }

  private back(at: number): void {
    const left = this.outSince;
    this.outSince = NaN;
    this.strayAt = NaN;
    this.onReturn({ left, back: at });
  }

  private closePassage(): void {
    this.passageEnd = NaN;
    this.passageFromOut = false;
  }
}
