// Carbon monoxide as a dose, not a threshold: EN 50291 wants no alarm at 30 ppm within two hours but an
// alarm at 300 ppm within three minutes. The dose D (ppm-minutes above a baseline b) grows with the
// excess concentration and decays with time constant tau:  dD/dt = max(0, c - b) - D / tau.
// Between readings the concentration is held (for at most staleS), so D has a closed form and the
// moment it crosses the alarm dose is computed and put on a timer: the alarm does not wait for the next
// reading, and it comes at the same time however often the detector reports.
import type { Subject } from './subject.ts';
import { orNull } from './threshold.ts';
import { Timer } from './timers.ts';

const MIN_MS = 60_000;
export const CO_RULE = 'gas.co';

export interface CoDoseState {
  dose: number;
  integratedTo: number | null;
  readingTs: number | null;
  ppm: number;
  active: boolean;
}

export class CoDoseRule {
  private dose = 0;
  private integratedTo = NaN;
  private readingTs = NaN;
  private ppm = 0;
  private active = false;
  private readonly timer = new Timer((at) => this.onTimer(at));

  constructor(
    private readonly subject: Subject,
    private readonly deviceId: string,
  ) {}

  observe(ts: number, ppm: number): void {
    if (!this.subject.rules.co.enabled) return;
    this.integrate(ts);
    if (!(ts < this.readingTs)) {
      this.ppm = ppm;
      this.readingTs = ts;
    }
    if (Number.isNaN(this.integratedTo)) this.integratedTo = ts;
    this.judge(ts, 'the dose reached the alarm level');
  }

  /** The detector's own alarm: trusted at once, the dose goes on being tracked for clearing. */
  deviceAlarm(ts: number, ppm: number): void {
    this.observe(ts, ppm);
    if (!this.active && this.subject.rules.co.enabled) this.raise(ts, 'the detector alarmed');
  }

  dispose(): void {
    this.subject.timers.cancel(this.timer);
  }

  toJSON(): CoDoseState {
    return {
      dose: this.dose,
      integratedTo: orNull(this.integratedTo),
      readingTs: orNull(this.readingTs),
      ppm: this.ppm,
      active: this.active,
    };
  }

  restore(s: CoDoseState, now: number): void {
    this.dose = s.dose;
    this.integratedTo = s.integratedTo ?? NaN;
    this.readingTs = s.readingTs ?? NaN;
    this.ppm = s.ppm;
    this.active = s.active;
    this.onTimer(now);
  }

  private onTimer(at: number): void {
    this.integrate(at);
    this.judge(at, 'the dose reached the alarm level');
  }

  private judge(at: number, why: string): void {
    const c = this.subject.rules.co;
    // A hair of tolerance: the timer lands on the computed crossing, where rounding may leave D a whisker short.
    if (!this.active && this.dose >= c.alarmDose * (1 - 1e-9)) this.raise(at, why);
    else if (this.active && this.dose <= c.clearDose * (1 + 1e-9) && this.excess(at) === 0) {
      this.active = false;
      this.subject.clear(CO_RULE, this.deviceId, {
        at,
        deviceId: this.deviceId,
        summary: `carbon monoxide back to ${this.ppm} ppm`,
        evidence: this.evidence(),
        autoClear: true,
      });
    }
    this.schedule();
  }

  private raise(at: number, why: string): void {
    this.active = true;
    this.subject.raise(CO_RULE, this.deviceId, 'alarm', {
      at,
      deviceId: this.deviceId,
      summary: `carbon monoxide at ${this.ppm} ppm: ${why} (${Math.round(this.dose)} ppm-min)`,
      evidence: this.evidence(),
      autoClear: true,
    });
  }

  private evidence(): Record<string, unknown> {
    const c = this.subject.rules.co;
    return { ppm: this.ppm, dose: Math.round(this.dose), alarmDose: c.alarmDose, baselinePpm: c.baselinePpm };
  }

  /** ppm above the baseline that counts at time t: none once the last reading is stale. */
  private excess(t: number): number {
    const c = this.subject.rules.co;
    if (t > this.readingTs + c.staleS * 1000) return 0;
    return Math.max(0, this.ppm - c.baselinePpm);
  }

  private integrate(to: number): void {
    if (Number.isNaN(this.integratedTo) || to <= this.integratedTo) return;
    const c = this.subject.rules.co;
    const staleAt = this.readingTs + c.staleS * 1000;
    if (this.integratedTo < staleAt) this.step(Math.min(to, staleAt), Math.max(0, this.ppm - c.baselinePpm));
    if (to > this.integratedTo) this.step(to, 0);
  }

  private step(to: number, excess: number): void {
    const tau = this.subject.rules.co.decayMin;
    const steady = excess * tau;
    this.dose = steady + (this.dose - steady) * Math.exp(-(to - this.integratedTo) / MIN_MS / tau);
    this.integratedTo = to;
  }

  /** The next moment the dose crosses the alarm level (rising) or the clear level (decaying). */
  private schedule(): void {
    const c = this.subject.rules.co;
    const tauMs = c.decayMin * MIN_MS;
    const from = this.integratedTo;
    const steady = this.excess(from) * c.decayMin;
    let due = Infinity;
    if (!this.active && steady > c.alarmDose) {
      due = from + tauMs * Math.log((steady - this.dose) / (steady - c.alarmDose));
      if (due > this.readingTs + c.staleS * 1000) due = Infinity;
    } else if (this.active && steady === 0 && this.dose > c.clearDose) {
      due = from + tauMs * Math.log(this.dose / Math.max(c.clearDose, 1e-9));
    }
    this.subject.timers.schedule(this.timer, due);
  }
}
