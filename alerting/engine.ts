// The rule engine: judges every accepted reading in event time and emits AlertSignals. It keeps one
// Subject per resident and one binding per (device, resident); rules live in alerting/rules/.
//
// Time: `advanceTo(now)` moves the clock and fires every timer (hold times, inactivity, offline, fall
// windows) due by then, each at its own due time. `ingest` first advances the clock to the reading's event
// time (never past its arrival, see eventTime), then judges it. Live, a timer also calls
// advanceTo(Date.now()) every second (startLiveClock) so that deadlines pass without readings; replay
// needs nothing more, so a day replays in seconds and gives the same signals as live.
//
// Each resident has their own timer queue, mirrored into the engine's by one proxy timer (SubjectTimers),
// so that a resident whose device is draining a backlog is held at what that device has delivered so far
// (backlog.ts) while every other resident's timers fire on time.
import type { DeviceKind, ROOMS } from '../firmware-protocol/index.ts';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { Backlog, DEFAULT_BACKLOG, type BacklogOptions } from './backlog.ts';
import { ABSENCE_RULE } from './rules/absence.ts';
import { DeviceBinding } from './rules/binding.ts';
import { loadRules, type RuleSet } from './rules/load.ts';
import type { RuleConfig } from './rules/schema.ts';
import { Subject, type SubjectState } from './rules/subject.ts';
import { orNull } from './rules/threshold.ts';
import { SubjectTimers, TimerQueue } from './rules/timers.ts';
import type { AlertSignal } from './signals.ts';
import { logErrors } from '../ops/fallback-log.ts';

export type Room = (typeof ROOMS)[number];

/** What the engine needs to know about a device, from the registry or a replay's devices file. */
export interface DeviceContext {
  kind: DeviceKind;
  /** As the gateway attributes the device's readings: the wearer, or null for a home device. */
  residentId: string | null;
  homeId: string | null;
  room: Room | null;
  /** Everyone the device watches over: its wearer, or the residents of its home. */
  residentIds: readonly string[];
}

/**
 * Looks devices up. Called once per device (and again when a reading shows the device was moved), never
 * per reading, so an implementation may query a database. Per-resident rule overrides are in the rules
 * file (`residents:`), where they are validated and reloaded with the rest.
 */
export interface ResidentContext {
  device(deviceId: string): DeviceContext | undefined;
  /** Forget what is cached about these homes' devices: their residents changed. */
  forgetHomes?(homeIds: ReadonlySet<string>): void;
  /** The IANA time zone of the resident's home (its own, else its community's), if the registry has one. */
  timeZone?(residentId: string): string | undefined;
}

export interface EngineSnapshot {
  clock: number;
  residents: Record<string, SubjectState>;
}

/** What the rules think of a resident now, for overviews that must agree with the alerts. */
export interface ResidentJudgement {
  /** Last sign of life at home (motion, a door, water, steps, a button), Unix ms. */
  lastActivity: number | null;
  /** Last message of any of the resident's devices, Unix ms. */
  lastReport: number | null;
  /** Devices the device.offline rule holds offline or silent now. */
  offlineDevices: string[];
  /** The absence rule finds no sign of life for longer than the resident's routine allows. */
  inactive: boolean;
}

/** The read side of the engine the dashboard is given. */
export interface ResidentJudgements {
  judgement(residentId: string): ResidentJudgement | undefined;
}

export interface EngineStats {
  readings: number;
  /** Readings from devices the context does not know, or that watch over nobody. */
  unattributed: number;
  signals: number;
}

export interface RuleEngineOptions {
  context: ResidentContext;
  /** Defaults to the shipped defaults.yaml. */
  rules?: RuleSet;
  /** A listener threw: the engine goes on with the next listener. */
  onListenerError?: (err: unknown, signal: AlertSignal) => void;
  /** When a late reading counts as a backlog, and how long a quiet device still holds its residents. */
  backlog?: BacklogOptions;
}

interface DeviceEntry {
  context: DeviceContext;
  bindings: DeviceBinding[];
}

export class RuleEngine {
  private clock = -Infinity;
  private readonly timers = new TimerQueue();
  private readonly subjects = new Map<string, Subject>();
  private readonly devices = new Map<string, DeviceEntry>();
  /** Residents with a device draining a backlog; their timers fire on a tick only up to its position. */
  private readonly backlogs = new Map<string, Backlog>();
  private readonly backlogOptions: BacklogOptions;
  private readonly listeners = new Set<(signal: AlertSignal) => void>();
  private readonly context: ResidentContext;
  private readonly onListenerError: (err: unknown, signal: AlertSignal) => void;
  private ruleSet: RuleSet;
  readonly stats: EngineStats = { readings: 0, unattributed: 0, signals: 0 };

  constructor(options: RuleEngineOptions) {
    this.context = options.context;
    this.ruleSet = options.rules ?? loadRules();
    this.backlogOptions = options.backlog ?? DEFAULT_BACKLOG;
    this.onListenerError = options.onListenerError ?? logErrors('alerting', 'a rule signal listener failed');
  }

  /** The engine's event-time clock, Unix ms. */
  get now(): number {
    return this.clock;
  }

  get rules(): RuleSet {
    return this.ruleSet;
  }

  get pendingTimers(): number {
    let n = 0;
    for (const subject of this.subjects.values()) n += subject.timers.size;
    return n;
  }

  onSignal(listener: (signal: AlertSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** New rules apply to every resident at once; timers move to the new limits. */
  setRules(rules: RuleSet): void {
    this.ruleSet = rules;
    for (const subject of this.subjects.values()) {
      subject.setRules(this.rulesFor(subject.id));
      subject.rearm(this.clock);
    }
  }

  /**
   * A resident's rules with the time zone they live in. Precedence: the resident's own rules override
   * (`residents.<id>.timezone`), then the home's zone in the registry, then the community's, then the
   * rules file's `timezone` (Asia/Shanghai by default).
   */
  private rulesFor(residentId: string): RuleConfig {
    const rules = this.ruleSet.forResident(residentId);
    const zone =
      this.ruleSet.timezoneOverride(residentId) ?? this.context.timeZone?.(residentId) ?? rules.timezone;
    return zone === rules.timezone ? rules : { ...rules, timezone: zone };
  }

  ingest(reading: AcceptedReading): void {
    this.stats.readings++;
    const ts = eventTime(reading);
    this.advanceTo(ts);
    const entry = this.entryFor(reading);
    if (entry === undefined || entry.bindings.length === 0) {
      this.stats.unattributed++;
      return;
    }
    const bindings = entry.bindings;
    const arrivedAt = Math.max(ts, reading.receivedAt);
    const late = arrivedAt - ts > this.backlogOptions.lagMs;
    for (let i = 0; i < bindings.length; i++) {
      const binding = bindings[i]!;
      if (late || this.backlogs.size > 0)
        this.noteBacklog(binding.subjectId, reading.deviceId, ts, arrivedAt);
      // A reading is judged after every timer of its resident due by its time, but no further than
      // another device of theirs still draining a backlog has delivered: that device's next readings
      // (a fall cancelled, motion) may still cancel a timer, whichever device's reading came first.
      const hold = this.backlogs.get(binding.subjectId)?.holdAt ?? Infinity;
      this.fireSubject(binding.subjectId, Math.min(ts, hold));
      binding.accept(reading.message, ts, arrivedAt);
    }
  }

  /**
   * Moves the clock to `now`, firing every timer due by then in order, each at its own due time; a
   * resident held by a backlog only up to its hold.
   */
  advanceTo(now: number): void {
    if (this.backlogs.size > 0) this.expireBacklogs(now);
    for (let timer = this.timers.popDue(now); timer; timer = this.timers.popDue(now)) {
      if (timer.due > this.clock) this.clock = timer.due;
      timer.fire(timer.due);
    }
    if (now > this.clock) this.clock = now;
  }

  /** Nothing more will arrive (the end of a replay): every backlog is over, its residents' timers free. */
  endBacklogs(): void {
    for (const [residentId, backlog] of this.backlogs) {
      backlog.end();
      this.backlogs.delete(residentId);
      (this.subjects.get(residentId)?.timers as SubjectTimers | undefined)?.sync();
    }
  }

  /**
   * Who lives in these homes changed (a resident added, say): every device of theirs seen so far is asked
   * again whom it watches over. A resident new to the home is watched by its devices from the next reading
   * on; bindings of residents still there keep their state (a hold half-way, a dose).
   */
  refreshHomes(homeIds: Iterable<string>): void {
    const homes = new Set(homeIds);
    if (homes.size === 0) return;
    this.context.forgetHomes?.(homes);
    const rezoned = new Set<string>();
    for (const [deviceId, entry] of [...this.devices]) {
      if (entry.context.homeId === null || !homes.has(entry.context.homeId)) continue;
      const ctx = this.context.device(deviceId);
      if (!ctx || ctx.kind !== entry.context.kind || ctx.room !== entry.context.room) {
        this.dropEntry(deviceId, entry);
        continue;
      }
      const watched = new Set(ctx.residentIds);
      const kept: DeviceBinding[] = [];
      for (const binding of entry.bindings) {
        if (watched.delete(binding.subjectId)) kept.push(binding);
        else this.unbind(deviceId, binding);
      }
      for (const residentId of watched) kept.push(this.bind(residentId, deviceId, ctx));
      entry.context = ctx;
      entry.bindings = kept;
      for (const binding of kept) rezoned.add(binding.subjectId);
    }
    // The home's time zone may be what changed: its residents' day and night move with it.
    for (const residentId of rezoned) {
      const subject = this.subjects.get(residentId)!;
      const rules = this.rulesFor(residentId);
      if (rules.timezone === subject.rules.timezone) continue;
      subject.setRules(rules);
      subject.rearm(this.clock);
    }
  }

  /**
   * The residents whose state changed since they were last taken, each serialised only when reached, so
   * that saving thousands of residents never holds all their state in memory at once.
   */
  *changedResidents(): Generator<[string, SubjectState]> {
    for (const subject of this.subjects.values()) {
      if (!subject.dirty) continue;
      subject.dirty = false;
      yield [subject.id, subject.toJSON()];
    }
  }

  /** Every resident's state, as restore() takes it: to fork a what-if from this moment. */
  snapshot(): EngineSnapshot {
    const residents: Record<string, SubjectState> = {};
    for (const subject of this.subjects.values()) residents[subject.id] = subject.toJSON();
    return JSON.parse(JSON.stringify({ clock: this.clock, residents })) as EngineSnapshot;
  }

  /** A snapshot of this resident could not be written: include them in the next one. */
  markDirty(residentId: string): void {
    const subject = this.subjects.get(residentId);
    if (subject) subject.dirty = true;
  }

  /** What the rules hold about a resident now; undefined for one none of whose devices has reported. */
  judgement(residentId: string): ResidentJudgement | undefined {
    const subject = this.subjects.get(residentId);
    if (!subject) return undefined;
    let lastReport = NaN;
    const offlineDevices: string[] = [];
    for (const [deviceId, binding] of subject.devices) {
      if (binding.lastSeen > lastReport || Number.isNaN(lastReport)) lastReport = binding.lastSeen;
      if (subject.outlet.raisedBy('device.offline', deviceId)) offlineDevices.push(deviceId);
    }
    return {
      lastActivity: orNull(subject.lastActivity),
      lastReport: orNull(lastReport),
      offlineDevices,
      inactive: subject.outlet.level(ABSENCE_RULE) >= 0,
    };
  }

  /** Loads saved state into a fresh engine, rebuilding device bindings and timers from the context. */
  restore(snapshot: EngineSnapshot): void {
    if (snapshot.clock > this.clock) this.clock = snapshot.clock;
    for (const [residentId, state] of Object.entries(snapshot.residents))
      this.subject(residentId).restore(state);
    for (const [residentId, state] of Object.entries(snapshot.residents)) {
      for (const [deviceId, bindingState] of Object.entries(state.devices)) {
        const entry = this.devices.get(deviceId) ?? this.buildEntry(deviceId);
        entry?.bindings.find((b) => b.subjectId === residentId)?.restore(bindingState, this.clock);
      }
    }
    for (const residentId of Object.keys(snapshot.residents)) {
      const subject = this.subject(residentId);
      subject.rearm(this.clock);
      subject.dirty = false;
    }
  }

  private subject(residentId: string): Subject {
    let subject = this.subjects.get(residentId);
    if (!subject) {
      const timers = new SubjectTimers(this.timers, (at) => this.fireNext(residentId, timers, at));
      subject = new Subject(residentId, timers, this.emit, this.rulesFor(residentId));
      this.subjects.set(residentId, subject);
    }
    return subject;
  }

  /** The proxy of a resident's queue came due: fire its earliest timer, unless a backlog holds it. */
  private fireNext(residentId: string, timers: SubjectTimers, at: number): void {
    const backlog = this.backlogs.get(residentId);
    if (backlog && at > backlog.holdAt) return; // parked: re-synced when the hold moves
    const timer = timers.popDue(at);
    if (timer) timer.fire(timer.due);
  }

  /** Fires a resident's timers due by `ts`, in order, whatever holds them. */
  private fireSubject(residentId: string, ts: number): void {
    const timers = this.subjects.get(residentId)!.timers;
    for (let timer = timers.popDue(ts); timer; timer = timers.popDue(ts)) timer.fire(timer.due);
  }

  private noteBacklog(residentId: string, deviceId: string, ts: number, arrivedAt: number): void {
    let backlog = this.backlogs.get(residentId);
    if (!backlog) {
      if (arrivedAt - ts <= this.backlogOptions.lagMs) return;
      backlog = new Backlog(this.backlogOptions);
      this.backlogs.set(residentId, backlog);
    }
    if (backlog.note(deviceId, ts, arrivedAt)) this.releaseIfMoved(residentId, backlog);
  }

  private expireBacklogs(now: number): void {
    for (const [residentId, backlog] of this.backlogs) {
      if (backlog.expire(now)) this.releaseIfMoved(residentId, backlog);
    }
  }

  /** The hold moved: the resident's parked proxy goes back into the engine's queue. */
  private releaseIfMoved(residentId: string, backlog: Backlog): void {
    if (backlog.empty) this.backlogs.delete(residentId);
    const timers = this.subjects.get(residentId)?.timers as SubjectTimers | undefined;
    timers?.sync();
  }

  private entryFor(reading: AcceptedReading): DeviceEntry | undefined {
    const entry = this.devices.get(reading.deviceId);
    // The gateway attributes each reading afresh: a device moved to another resident or home is rebuilt.
    if (entry && entry.context.residentId === reading.residentId && entry.context.homeId === reading.homeId) {
      return entry;
    }
    if (entry) this.dropEntry(reading.deviceId, entry);
    return this.buildEntry(reading.deviceId);
  }

  private buildEntry(deviceId: string): DeviceEntry | undefined {
    const ctx = this.context.device(deviceId);
    if (!ctx) return undefined;
    const bindings = ctx.residentIds.map((residentId) => this.bind(residentId, deviceId, ctx));
    const entry: DeviceEntry = { context: ctx, bindings };
    this.devices.set(deviceId, entry);
    return entry;
  }

  private bind(residentId: string, deviceId: string, ctx: DeviceContext): DeviceBinding {
    const subject = this.subject(residentId);
    const binding = new DeviceBinding(subject, deviceId, ctx.kind, ctx.room);
    subject.devices.set(deviceId, binding);
    return binding;
  }

  private unbind(deviceId: string, binding: DeviceBinding): void {
    binding.dispose();
    this.subjects.get(binding.subjectId)?.devices.delete(deviceId);
  }

  private dropEntry(deviceId: string, entry: DeviceEntry): void {
    for (const binding of entry.bindings) this.unbind(deviceId, binding);
    this.devices.delete(deviceId);
  }

  private readonly emit = (signal: AlertSignal): void => {
    this.stats.signals++;
    for (const listener of this.listeners) {
      try {
        listener(signal);
      } catch (err) {
        this.onListenerError(err, signal);
      }
    }
  };
}

/**
 * The time a reading is judged at: its own timestamp, or its arrival when it has none or when the device
 * clock runs ahead (the gateway allows 5 min), which must not delay hold timers. A reading that arrives
 * late keeps its own time; that is what event time is for.
 */
export function eventTime(reading: AcceptedReading): number {
  const own = (reading.message.body as { ts?: number }).ts;
  return own === undefined || own > reading.receivedAt ? reading.receivedAt : own;
}

/**
 * Drives the engine from the wall clock: advanceTo(now()) every interval. Returns a stop function. A timer
 * that throws goes to `onError`; an exception in a bare interval would end the process.
 */
export function startLiveClock(
  engine: RuleEngine,
  options: { intervalMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
): () => void {
  const now = options.now ?? Date.now;
  const onError = options.onError ?? logErrors('alerting', 'a rule engine clock tick failed');
  const tick = () => {
    try {
      engine.advanceTo(now());
    } catch (err) {
      onError(err);
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
