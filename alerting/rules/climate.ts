// Room temperature for one resident: too cold (WHO: at least 18 C) and too hot (WHO: below 32 C by day,
// 24 C at night, night judged in the home's own time zone). Each room is its own source, so the alert
// clears only when every room is back in range.
import { inWindow } from './local-time.ts';
import type { Subject } from './subject.ts';
import { ThresholdRule, type ThresholdState } from './threshold.ts';

export interface ClimateState {
  cold: ThresholdState;
  hot: ThresholdState;
}

export class ClimateRules {
  private readonly cold: ThresholdRule;
  private readonly hot: ThresholdRule;

  constructor(
    private readonly subject: Subject,
    deviceId: string,
    room: string | null,
  ) {
    const what = `${room ?? 'room'} temperature`;
    this.cold = new ThresholdRule(subject, 'climate.cold', deviceId, deviceId, -1, true, {
      what,
      unit: ' C',
      autoClear: true,
    });
    this.hot = new ThresholdRule(subject, 'climate.hot', deviceId, deviceId, 1, true, {
      what,
      unit: ' C',
      autoClear: true,
    });
  }

  temperature(ts: number, celsius: number): void {
    const { cold, hot } = this.subject.rules.climate;
    if (cold.enabled)
      this.cold.observe(ts, celsius, cold.below, NaN, NaN, cold.holdS * 1000, cold.hysteresis);
    if (hot.enabled) {
      const night = inWindow(this.subject.clock.minuteOfDay(ts), hot.night);
      const above = night ? hot.nightAbove : hot.dayAbove;
      this.hot.observe(ts, celsius, above, NaN, NaN, hot.holdS * 1000, hot.hysteresis);
    }
  }

  dispose(): void {
    this.cold.dispose();
    this.hot.dispose();
  }

  toJSON(): ClimateState {
    return { cold: this.cold.toJSON(), hot: this.hot.toJSON() };
  }

  restore(s: ClimateState, now: number): void {
    this.cold.restore(s.cold, now);
    this.hot.restore(s.hot, now);
  }
}
