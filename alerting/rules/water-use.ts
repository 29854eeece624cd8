// No water use: less than minLitres drawn in windowH (Shenzhen and Shanghai practice: 10 L in 12 h). The
// window starts at the last moment the meter had counted minLitres more than at the previous start, so
// one cumulative reading per window is enough and nothing is stored per reading. Water drawn is also a
// sign of life for the absence rule. A resident who is out is not expected to use water: the window
// starts again while they are away.
import type { Subject } from './subject.ts';
import { orNull } from './threshold.ts';
import { Timer } from './timers.ts';

const HOUR_MS = 3_600_000;
export const WATER_RULE = 'absence.water';

export interface WaterUseState {
  anchorTs: number | null;
  anchorLitres: number;
  litres: number;
  deviceId: string | null;
}

export class WaterUseRule {
  private anchorTs = NaN;
  private anchorLitres = 0;
  private litres = 0;
  private deviceId: string | null = null;
  private readonly timer = new Timer((at) => this.onTimer(at));

  constructor(private readonly subject: Subject) {}

  reading(ts: number, litres: number, deviceId: string): void {
    const cfg = this.subject.rules.absence.water;
    const used = litres > this.litres && !Number.isNaN(this.anchorTs);
    this.deviceId = deviceId;
    this.litres = litres;
    // A first reading, or a meter that counts from zero again after a swap.
    if (Number.isNaN(this.anchorTs) || litres < this.anchorLitres) this.restart(ts);
    else if (litres - this.anchorLitres >= cfg.minLitres) {
      this.restart(ts);
      this.subject.clear(WATER_RULE, 'meter', {
        at: ts,
        deviceId,
        summary: 'water used again',
        evidence: { litres },
        autoClear: true,
      });
    }
    if (used) this.subject.noteActivity(ts);
    this.rearm();
  }

  rearm(): void {
    const cfg = this.subject.rules.absence.water;
    const raised = this.subject.outlet.level(WATER_RULE) >= 0;
    const due = cfg.enabled && !raised ? this.anchorTs + cfg.windowH * HOUR_MS : NaN;
    this.subject.timers.schedule(this.timer, due);
  }

  toJSON(): WaterUseState {
    return {
      anchorTs: orNull(this.anchorTs),
      anchorLitres: this.anchorLitres,
      litres: this.litres,
      deviceId: this.deviceId,
    };
  }

  restore(s: WaterUseState): void {
    this.anchorTs = s.anchorTs ?? NaN;
    this.anchorLitres = s.anchorLitres;
    this.litres = s.litres;
    this.deviceId = s.deviceId;
  }

  private restart(ts: number): void {
    this.anchorTs = ts;
    this.anchorLitres = this.litres;
  }

  private onTimer(at: number): void {
    const cfg = this.subject.rules.absence.water;
    if (this.subject.isOut(at)) {
      this.restart(at);
      this.rearm();
      return;
    }
    this.subject.raise(WATER_RULE, 'meter', cfg.severity, {
      at,
      deviceId: this.deviceId,
      summary: `less than ${cfg.minLitres} L of water used in ${cfg.windowH} h`,
      evidence: { litres: this.litres - this.anchorLitres, sinceTs: this.anchorTs, windowH: cfg.windowH },
      autoClear: true,
    });
  }
}
