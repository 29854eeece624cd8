// A gas detector's readings for one resident: methane and LPG in % LEL through levelled thresholds with a
// short hold, carbon monoxide through the dose rule. A detector's own gas alarm is an alert at once.
import type { GasEvent, GasTelemetry } from '../../firmware-protocol/index.ts';
import { CoDoseRule, type CoDoseState } from './co-dose.ts';
import type { Subject } from './subject.ts';
import { ThresholdRule, type ThresholdState } from './threshold.ts';

type LelGas = 'methane' | 'lpg';

export interface GasSensorState {
  methane?: ThresholdState;
  lpg?: ThresholdState;
  co?: CoDoseState;
}

const LABELS: Record<LelGas, string> = { methane: 'methane', lpg: 'LPG' };

export class GasSensorRules {
  private methane: ThresholdRule | undefined;
  private lpg: ThresholdRule | undefined;
  private co: CoDoseRule | undefined;

  constructor(
    private readonly subject: Subject,
    private readonly deviceId: string,
  ) {}

  telemetry(body: GasTelemetry, ts: number): void {
    if (body.gas === 'co') this.coRule().observe(ts, body.concentration);
    else this.observeLel(body.gas, ts, body.concentration);
  }

  event(body: GasEvent, ts: number): void {
    if (body.type !== 'gas_alarm') return;
    if (body.gas === 'co') {
      this.coRule().deviceAlarm(ts, body.concentration);
      return;
    }
    const cfg = this.subject.rules.gas[body.gas];
    if (!cfg.enabled) return;
    this.observeLel(body.gas, ts, body.concentration);
    const level = body.concentration >= cfg.critical ? 2 : 1;
    this.lelRule(body.gas).raiseNow(ts, level, body.concentration, '(the detector alarmed)');
  }

  dispose(): void {
    this.methane?.dispose();
    this.lpg?.dispose();
    this.co?.dispose();
  }

  toJSON(): GasSensorState {
    return { methane: this.methane?.toJSON(), lpg: this.lpg?.toJSON(), co: this.co?.toJSON() };
  }

  restore(s: GasSensorState, now: number): void {
    if (s.methane) this.lelRule('methane').restore(s.methane, now);
    if (s.lpg) this.lelRule('lpg').restore(s.lpg, now);
    if (s.co) this.coRule().restore(s.co, now);
  }

  private observeLel(gas: LelGas, ts: number, lel: number): void {
    const cfg = this.subject.rules.gas[gas];
    if (!cfg.enabled) return;
    this.lelRule(gas).observe(
      ts,
      lel,
      cfg.warning,
      cfg.alarm,
      cfg.critical,
      cfg.holdS * 1000,
      cfg.hysteresis,
    );
  }

  private lelRule(gas: LelGas): ThresholdRule {
    const existing = gas === 'methane' ? this.methane : this.lpg;
    if (existing) return existing;
    const rule = new ThresholdRule(this.subject, `gas.${gas}`, this.deviceId, this.deviceId, 1, false, {
      what: LABELS[gas],
      unit: ' %LEL',
      autoClear: true,
    });
    if (gas === 'methane') this.methane = rule;
    else this.lpg = rule;
    return rule;
  }

  private coRule(): CoDoseRule {
    this.co ??= new CoDoseRule(this.subject, this.deviceId);
    return this.co;
  }
}
