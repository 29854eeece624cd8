// One resident's rule state: their rules, their home's local clock, the signs of life seen at home, the
// rules that judge the resident as a whole (absence, falls, water use, combinations) and one binding per
// device that watches over them. Everything a restart must keep is in toJSON().
import type { AlertSignal, Severity } from '../signals.ts';
import { AbsenceRule, type AbsenceState } from './absence.ts';
import type { DeviceBinding, DeviceBindingState } from './binding.ts';
import { GasNoMovementRule } from './combination.ts';
import { FallRule, type FallState } from './fall.ts';
import { NotBackRule, type NotBackState } from './not-back.ts';
import { clockFor, type LocalClock } from './local-time.ts';
import { Outlet, RANK, type OutletState, type SignalFacts } from './outlet.ts';
import type { RuleConfig } from './schema.ts';
import { Presence, type PresenceState } from './presence.ts';
import { orNull } from './threshold.ts';
import type { TimerQueue } from './timers.ts';
import { WaterUseRule, type WaterUseState } from './water-use.ts';

export interface SubjectState {
  lastActivity: number | null;
  hasMotionSensor: boolean;
  /** Absent from snapshots written before going out was told from coming home. */
  presence?: PresenceState;
  notBack?: NotBackState;
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
  hasMotionSensor = false;
  readonly outlet: Outlet;
  readonly presence: Presence;
  readonly absence: AbsenceRule;
  readonly notBack: NotBackRule;
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
    this.notBack = new NotBackRule(this);
    this.presence = new Presence(
      () => this.rules.absence.presence,
      (outing) => this.notBack.onReturn(outing),
    );
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

  /** Motion inside, seen at `ts` or, for a report of motion since the last one, after `since`. */
  noteInsideMotion(ts: number, since = ts): void {
    const wasOut = this.isOut(ts);
    this.hasMotionSensor = true;
    this.presence.motion(ts, since);
    this.noteActivity(ts, wasOut);
  }

  /** The front door opened or closed. */
  noteFrontDoor(ts: number): void {
    const wasOut = this.isOut(ts);
    this.presence.door(ts);
    if (this.hasMotionSensor) this.notBack.onDoor(ts);
    this.noteActivity(ts, wasOut);
  }

  /** Out of the home at `at`: only a home with motion sensors can tell (presence.ts). */
  isOut(at: number): boolean {
    return this.hasMotionSensor && this.presence.isOut(at);
  }

  /** Since when the resident is out, NaN when at home or when the home cannot tell. */
  outSince(at: number): number {
    return this.hasMotionSensor ? this.presence.outSinceAt(at) : NaN;
  }

  setRules(rules: RuleConfig): void {
    this.rules = rules;
    this.clock = clockFor(rules.timezone);
  }

  /** Puts every timer back where the state says it belongs: after a restore or a rules change. */
  rearm(now: number): void {
    this.absence.rearm(now);
    this.notBack.rearm(now);
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
      hasMotionSensor: this.hasMotionSensor,
      presence: this.presence.toJSON(),
      notBack: this.notBack.toJSON(),
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
    this.hasMotionSensor = s.hasMotionSensor;
    if (s.presence) this.presence.restore(s.presence);
    this.notBack.restore(s.notBack);
    this.outlet.restore(s.outlet);
    this.absence.restore(s.absence);
    this.fall.restore(s.fall);
    this.water.restore(s.water);
  }
}
