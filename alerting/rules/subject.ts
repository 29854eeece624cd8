// One resident's rule state: their rules, their home's local clock, the signs of life seen at home, the
// rules that judge the resident as a whole (absence, falls, water use, combinations) and one binding per
// device that watches over them. Everything a restart must keep is in toJSON().
import type { AlertSignal, Severity } from '../signals.ts';
import { AbsenceRule, type AbsenceState } from './absence.ts';
import type { DeviceBinding, DeviceBindingState } from './binding.ts';
import { GasNoMovementRule } from './combination.ts';
import { FallRule, type FallState } from './fall.ts';
import { clockFor, type LocalClock } from './local-time.ts';
import { Outlet, RANK, type OutletState, type SignalFacts } from './outlet.ts';
import type { RuleConfig } from './schema.ts';
import { orNull } from './threshold.ts';
import type { TimerQueue } from './timers.ts';
import { WaterUseRule, type WaterUseState } from './water-use.ts';

export interface SubjectState {
  lastActivity: number | null;
  lastInsideMotion: number | null;
  frontDoorOpenedAt: number | null;
  hasMotionSensor: boolean;
  outlet: OutletState;
  absence: AbsenceState;
  fall: FallState;
  water: WaterUseState;
  devices: Record<string, DeviceBindingState>;
}

export class Subject {
  rules: RuleConfig;
  clock: LocalClock;
  /** Changed since the last snapshot. */
  dirty = true;
  /** Last sign of life at home: motion, a door, water drawn, steps, a button pressed. */
  lastActivity = NaN;
  lastInsideMotion = NaN;
  frontDoorOpenedAt = NaN;
  hasMotionSensor = false;
  readonly outlet: Outlet;
  readonly absence: AbsenceRule;
  readonly fall: FallRule;
  readonly water: WaterUseRule;
  readonly gasNoMovement: GasNoMovementRule;
  readonly devices = new Map<string, DeviceBinding>();

  constructor(
    readonly id: string,
    readonly timers: TimerQueue,
    emit: (signal: AlertSignal) => void,
    rules: RuleConfig,
  ) {
    this.rules = rules;
    this.clock = clockFor(rules.timezone);
    this.outlet = new Outlet(id, emit);
    this.absence = new AbsenceRule(this);
    this.fall = new FallRule(this);
    this.water = new WaterUseRule(this);
    this.gasNoMovement = new GasNoMovementRule(this);
  }

  raise(ruleId: string, source: string, severity: Severity, facts: SignalFacts, repeat = false): void {
    this.dirty = true;
    this.outlet.raise(ruleId, source, severity, facts, repeat);
    if (RANK[severity] >= RANK.alarm && ruleId.startsWith('gas.')) this.gasNoMovement.check(facts.at);
  }

  clear(ruleId: string, source: string, facts: SignalFacts): void {
    this.dirty = true;
    this.outlet.clear(ruleId, source, facts);
  }

  /** `wasOut`: whether the resident was out until this sign of life (judged before it is recorded). */
  noteActivity(ts: number, wasOut = this.isOut(ts)): void {
    const previous = this.lastActivity;
    if (ts <= previous) return;
    this.lastActivity = ts;
    this.absence.onActivity(ts, previous, wasOut);
  }

  noteInsideMotion(ts: number): void {
    const wasOut = this.isOut(ts);
    this.hasMotionSensor = true;
    if (!(ts <= this.lastInsideMotion)) this.lastInsideMotion = ts;
    this.noteActivity(ts, wasOut);
  }

  noteFrontDoorOpened(ts: number): void {
    const wasOut = this.isOut(ts);
    if (!(ts <= this.frontDoorOpenedAt)) this.frontDoorOpenedAt = ts;
    this.noteActivity(ts, wasOut);
  }

  /** The front door opened and nobody moved inside from a short grace after it: the resident went out. */
  isOut(at: number): boolean {
    if (!this.hasMotionSensor || Number.isNaN(this.frontDoorOpenedAt)) return false;
    const grace = this.rules.absence.routine.leftHomeGraceS * 1000;
    const leftBy = this.frontDoorOpenedAt + grace;
    return at >= leftBy && !(this.lastInsideMotion > leftBy);
  }

  setRules(rules: RuleConfig): void {
    this.rules = rules;
    this.clock = clockFor(rules.timezone);
  }

  /** Puts every timer back where the state says it belongs: after a restore or a rules change. */
  rearm(now: number): void {
    this.absence.rearm(now);
    this.fall.rearm();
    this.water.rearm();
    this.gasNoMovement.check(now);
    for (const binding of this.devices.values()) binding.rearm();
  }

  toJSON(): SubjectState {
    const devices: Record<string, DeviceBindingState> = {};
    for (const [id, binding] of this.devices) devices[id] = binding.toJSON();
    return {
      lastActivity: orNull(this.lastActivity),
      lastInsideMotion: orNull(this.lastInsideMotion),
      frontDoorOpenedAt: orNull(this.frontDoorOpenedAt),
      hasMotionSensor: this.hasMotionSensor,
      outlet: this.outlet.toJSON(),
      absence: this.absence.toJSON(),
      fall: this.fall.toJSON(),
      water: this.water.toJSON(),
      devices,
    };
  }

  /** Restores the resident's own state; the engine restores device bindings as it rebuilds them. */
  restore(s: SubjectState): void {
    this.lastActivity = s.lastActivity ?? NaN;
    this.lastInsideMotion = s.lastInsideMotion ?? NaN;
    this.frontDoorOpenedAt = s.frontDoorOpenedAt ?? NaN;
    this.hasMotionSensor = s.hasMotionSensor;
    this.outlet.restore(s.outlet);
    this.absence.restore(s.absence);
    this.fall.restore(s.fall);
    this.water.restore(s.water);
  }
}
