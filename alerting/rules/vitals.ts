// A wearer's vital signs in NEWS2 bands (Royal College of Physicians), moving to the wearer's own baseline
// once enough readings at rest exist: resting heart rates range from 40 to 109 between people, so a band
// that fits the population warns some people all day and others never. The NEWS2 score-3 limits stay in
// force whatever the baseline says. A high pulse is judged only at rest; skin temperature is not core
// temperature, so it is judged only against the wearer's own baseline, as a trend.
import type { WearableTelemetry } from '../../firmware-protocol/index.ts';
import { Baseline, type BaselineState } from './baseline.ts';
import type { Subject } from './subject.ts';
import { ThresholdRule, type ThresholdState } from './threshold.ts';

export interface VitalsState {
  spo2: ThresholdState;
  pulseHigh: ThresholdState;
  pulseLow: ThresholdState;
  skinHigh: ThresholdState;
  skinLow: ThresholdState;
  pulseBaseline: BaselineState;
  skinBaseline: BaselineState;
}

export class VitalsRules {
  private readonly spo2: ThresholdRule;
  private readonly pulseHigh: ThresholdRule;
  private readonly pulseLow: ThresholdRule;
  private readonly skinHigh: ThresholdRule;
  private readonly skinLow: ThresholdRule;
  private readonly pulseBaseline = new Baseline();
  private readonly skinBaseline = new Baseline();

  constructor(
    private readonly subject: Subject,
    deviceId: string,
  ) {
    const rule = (ruleId: string, source: string, direction: 1 | -1, what: string, unit: string) =>
      new ThresholdRule(subject, ruleId, `${deviceId}:${source}`, deviceId, direction, false, {
        what,
        unit,
        autoClear: true,
      });
    this.spo2 = rule('vitals.spo2', 'spo2', -1, 'SpO2', ' %');
    this.pulseHigh = rule('vitals.pulse', 'high', 1, 'pulse', ' bpm');
    this.pulseLow = rule('vitals.pulse', 'low', -1, 'pulse', ' bpm');
    this.skinHigh = rule('vitals.skin_temp', 'high', 1, 'skin temperature', ' C');
    this.skinLow = rule('vitals.skin_temp', 'low', -1, 'skin temperature', ' C');
  }

  telemetry(body: WearableTelemetry, ts: number): void {
    if (body.worn === false) return;
    const { spo2, pulse, skinTemp, baseline } = this.subject.rules.vitals;
    if (body.spo2 !== undefined && spo2.enabled) {
      this.spo2.observe(
        ts,
        body.spo2,
        spo2.warningAtOrBelow,
        spo2.alarmAtOrBelow,
        NaN,
        spo2.holdS * 1000,
        spo2.hysteresis,
      );
    }
    if (body.heartRate !== undefined && pulse.enabled) {
      const hr = body.heartRate;
      const atRest = body.activity === undefined || body.activity === 'still';
      const b = this.pulseBaseline;
      const personalHigh = b.bound(baseline.k, baseline.minReadings);
      const personalLow = b.bound(-baseline.k, baseline.minReadings);
      const warnHigh = Number.isNaN(personalHigh)
        ? pulse.warningAtOrAbove
        : Math.min(personalHigh, pulse.alarmAtOrAbove);
      const warnLow = Math.max(personalLow, pulse.alarmAtOrBelow);
      const holdMs = pulse.holdS * 1000;
      this.pulseHigh.observe(
        ts,
        atRest ? hr : NaN,
        warnHigh,
        pulse.alarmAtOrAbove,
        NaN,
        holdMs,
        pulse.hysteresis,
      );
      this.pulseLow.observe(ts, hr, warnLow, pulse.alarmAtOrBelow, NaN, holdMs, pulse.hysteresis);
      if (atRest) b.add(hr, baseline.window, baseline.k, baseline.minReadings);
    }
    if (body.skinTemp !== undefined && skinTemp.enabled) {
      const b = this.skinBaseline;
      const holdMs = skinTemp.holdS * 1000;
      const high = b.bound(baseline.k, baseline.minReadings);
      const low = b.bound(-baseline.k, baseline.minReadings);
      this.skinHigh.observe(ts, body.skinTemp, high, NaN, NaN, holdMs, skinTemp.hysteresis);
      this.skinLow.observe(ts, body.skinTemp, low, NaN, NaN, holdMs, skinTemp.hysteresis);
      b.add(body.skinTemp, baseline.window, baseline.k, baseline.minReadings);
    }
  }

  dispose(): void {
    for (const rule of [this.spo2, this.pulseHigh, this.pulseLow, this.skinHigh, this.skinLow])
      rule.dispose();
  }

  toJSON(): VitalsState {
    return {
      spo2: this.spo2.toJSON(),
      pulseHigh: this.pulseHigh.toJSON(),
      pulseLow: this.pulseLow.toJSON(),
      skinHigh: this.skinHigh.toJSON(),
      skinLow: this.skinLow.toJSON(),
      pulseBaseline: this.pulseBaseline.toJSON(),
      skinBaseline: this.skinBaseline.toJSON(),
    };
  }

  restore(s: VitalsState, now: number): void {
    this.spo2.restore(s.spo2, now);
    this.pulseHigh.restore(s.pulseHigh, now);
    this.pulseLow.restore(s.pulseLow, now);
    this.skinHigh.restore(s.skinHigh, now);
    this.skinLow.restore(s.skinLow, now);
    this.pulseBaseline.restore(s.pulseBaseline);
    this.skinBaseline.restore(s.skinBaseline);
  }
}
