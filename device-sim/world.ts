// The simulated community in simulated time: residents follow their day plans from room to room, devices
// measure and report on their own schedules, and scenarios change what happens. A discrete-event
// simulation: nothing here knows about MQTT or wall-clock time, so a run is a pure function of the
// community, the scenarios and the start time.
import {
  MAX_CLOCK_AHEAD_MS,
  MAX_CLOCK_BEHIND_MS,
  topicFor,
  type ErrorCode,
  type UplinkChannel,
} from '../firmware-protocol/index.ts';
import { baseHumidity, drift, roomTarget, type ClimateOverride } from './climate.ts';
import type { Community, DeviceRole, SensedRoom, SimDevice, SimResident } from './community.ts';
import { malformed } from './faults.ts';
import type { Payload, SimOutput } from './output.ts';
import { stepsIn, vitals } from './physiology.ts';
import { EventQueue } from './queue.ts';
import { rngFor, type Rng } from './random.ts';
import { planAt, planDay, type Activity, type DayPlan, type Place } from './routine.ts';
import { MALFORMED_VARIANTS, type ResolvedScenario } from './scenarios.ts';
import { DAY, HOUR, MINUTE, localDay } from './time.ts';

const TS_MIN = Date.UTC(2020, 0, 1);
const TS_MAX = Date.UTC(2100, 0, 1);
const SEQ_WRAP = 2 ** 32;

/** Gas sensors report this often while the level is raised, as household detectors do in alarm. */
const ALARM_INTERVAL_MS = 10_000;

interface Override {
  kind: 'fallen' | 'collapsed' | 'wandering';
  until: number;
  place: Place;
  activity: Activity;
  hrExtra: number;
}

interface ResidentState {
  r: SimResident;
  plan: DayPlan;
  segIndex: number;
  place: Place;
  activity: Activity;
  asleep: boolean;
  cooking: boolean;
  override?: Override;
  /** When the resident last moved in each sensed room, for "motion since the last report". */
  lastMoved: Partial<Record<SensedRoom, number>>;
  showerUntil: number;
  notWornUntil: number;
  climate?: ClimateOverride & { until: number };
  doorOpen: boolean;
  devices: Partial<Record<DeviceRole, DeviceState>>;
}

interface Leak {
  start: number;
  ramp: number;
  hold: number;
  peak: number;
}

interface DeviceState {
  d: SimDevice;
  home: ResidentState;
  rng: Rng;
  seq: number;
  powered: boolean;
  bootAt: number;
  lastReport: number;
  battery?: number;
  drain?: { from: number; level: number; over: number };
  skew?: { ms: number; from: number; until: number };
  duplicates?: { from: number; until: number };
  temp: number;
  litres: number;
  flowUntil: number;
  steps: number;
  stepsDay: number;
  leaks: Leak[];
  alarmed: boolean;
  valve?: 'open' | 'closed' | 'absent';
}

const ROOM_OF_ROLE: Partial<Record<DeviceRole, SensedRoom>> = {
  bedroom: 'bedroom',
  kitchen: 'kitchen',
  bathroom: 'bathroom',
  door: 'entrance',
};
const ROLE_OF_ROOM: Record<SensedRoom, DeviceRole> = {
  bedroom: 'bedroom',
  kitchen: 'kitchen',
  bathroom: 'bathroom',
  entrance: 'door',
};

const isSensed = (place: Place | 'entrance'): place is SensedRoom =>
  place === 'bedroom' || place === 'kitchen' || place === 'bathroom' || place === 'entrance';
const round1 = (v: number) => Math.round(v * 10) / 10;
const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

/** The refusal a timestamp provokes, judged against simulated time (which a live run keeps at or behind now). */
function clockExpectation(ts: number, now: number): ErrorCode | undefined {
  if (ts < TS_MIN || ts > TS_MAX) return 'E_RANGE';
  if (ts > now + MAX_CLOCK_AHEAD_MS || ts < now - MAX_CLOCK_BEHIND_MS) return 'E_CLOCK';
  return undefined;
}

function leakLevel(leak: Leak, t: number): number {
  let x = t - leak.start;
  if (x < 0) return 0;
  if (x < leak.ramp) return (leak.peak * x) / leak.ramp;
  x -= leak.ramp;
  if (x < leak.hold) return leak.peak;
  return leak.peak * Math.exp(-(x - leak.hold) / (5 * MINUTE));
}

export interface WorldOptions {
  community: Community;
  scenarios?: ResolvedScenario[];
  start: number;
}

export class World {
  private readonly queue = new EventQueue();
  private out: SimOutput[] = [];
  private readonly community: Community;
  private readonly seed: number;
  private readonly offset: number;

  constructor(opts: WorldOptions) {
    this.community = opts.community;
    this.seed = opts.community.seed;
    this.offset = opts.community.utcOffsetMin;
    const residents = new Map<string, ResidentState>();
    for (const r of this.community.residents) residents.set(r.key, this.initResident(r, opts.start));
    for (const d of this.community.devices) this.initDevice(d, residents.get(d.residentKey)!, opts.start);
    for (const s of opts.scenarios ?? []) {
      this.queue.schedule(s.at, (t) => this.apply(s, t, residents));
    }
  }

  /** When the next thing happens, or undefined when nothing ever will (every device is dead). */
  nextAt(): number | undefined {
    return this.queue.peekAt();
  }

  /** Runs everything due at or before `until` and returns what the devices did, oldest first. */
  advance(until: number): SimOutput[] {
    for (let at = this.queue.peekAt(); at !== undefined && at <= until; at = this.queue.peekAt()) {
      const entry = this.queue.pop()!;
      entry.run(entry.at);
    }
    const done = this.out;
    this.out = [];
    return done;
  }

  // ------------------------------------------------------------------------------------------ residents

  private initResident(r: SimResident, start: number): ResidentState {
    const plan = planAt(r, this.seed, start, this.offset);
    const segIndex = Math.max(
      0,
      plan.segments.findIndex((s) => start >= s.start && start < s.end),
    );
    const seg = plan.segments[segIndex]!;
    const state: ResidentState = {
      r,
      plan,
      segIndex,
      place: seg.place,
      activity: seg.activity,
      asleep: seg.asleep ?? false,
      cooking: seg.cooking ?? false,
      lastMoved: {},
      showerUntil: 0,
      notWornUntil: 0,
      doorOpen: false,
      devices: {},
    };
    this.queue.schedule(seg.end, (t) => this.nextSegment(state, t));
    return state;
  }

  private nextSegment(state: ResidentState, t: number): void {
    state.segIndex += 1;
    if (state.segIndex >= state.plan.segments.length) {
      state.plan = planDay(state.r, this.seed, localDay(t, this.offset), this.offset);
      state.segIndex = 0;
    }
    const seg = state.plan.segments[state.segIndex]!;
    this.queue.schedule(seg.end, (at) => this.nextSegment(state, at));
    if (state.override) return; // the plan goes on; the resident catches up with it when the override ends
    this.moveTo(state, seg.place, t);
    state.activity = seg.activity;
    state.asleep = seg.asleep ?? false;
    state.cooking = seg.cooking ?? false;
    if (seg.waterLitres) this.useWater(state, seg.waterLitres, t);
  }

  private awakeIn(state: ResidentState, room: SensedRoom): boolean {
    return state.place === room && !state.asleep && (!state.override || state.override.kind === 'wandering');
  }

  /** Moves the resident, with the motion and door events a real home would see. */
  private moveTo(state: ResidentState, to: Place, t: number): void {
    const from = state.place;
    if (from === to) return;
    if (isSensed(from)) state.lastMoved[from] = t;
    state.place = to;
    if (to === 'out') {
      this.motion(state, 'entrance', t);
      this.door(state, 'open', t);
      this.queue.schedule(t + 15_000, (at) => this.door(state, 'closed', at));
      state.lastMoved.entrance = t + 15_000;
    } else if (from === 'out') {
      this.door(state, 'open', t);
      this.motion(state, 'entrance', t);
      this.queue.schedule(t + 10_000, (at) => this.door(state, 'closed', at));
      state.lastMoved.entrance = t + 30_000;
    }
    if (isSensed(to) && this.awakeIn(state, to)) this.motion(state, to, t);
  }

  private motion(state: ResidentState, room: SensedRoom, t: number): void {
    const device = state.devices[ROLE_OF_ROOM[room]];
    if (device) this.emit(device, 'event', { type: 'motion' }, t);
  }

  private door(state: ResidentState, position: 'open' | 'closed', t: number): void {
    state.doorOpen = position === 'open';
    const device = state.devices.door;
    if (device) this.emit(device, 'event', { type: 'door', state: position }, t);
  }

  private useWater(state: ResidentState, litres: number, t: number): void {
    const meter = state.devices.water;
    if (litres >= 30) state.showerUntil = t + 30 * MINUTE;
    if (!meter) return;
    meter.litres += litres * meter.rng.range(0.95, 1.3);
    meter.flowUntil = t + (litres / 8) * MINUTE;
  }

  private setOverride(state: ResidentState, o: Override, t: number): void {
    if (isSensed(state.place)) state.lastMoved[state.place] = t;
    state.override = undefined;
    this.moveTo(state, o.place, t);
    state.override = o;
    this.queue.schedule(o.until, (at) => {
      if (state.override !== o) return;
      state.override = undefined;
      const seg = state.plan.segments[state.segIndex]!;
      const place = state.place;
      state.activity = seg.activity;
      state.asleep = seg.asleep ?? false;
      state.cooking = seg.cooking ?? false;
      this.moveTo(state, seg.place, at);
      // Getting up where they lay is movement too.
      if (place === seg.place && isSensed(place) && this.awakeIn(state, place)) this.motion(state, place, at);
    });
  }

  private roomTemp(state: ResidentState): number {
    const room = state.place === 'out' || state.place === 'living' ? 'bedroom' : state.place;
    return state.devices[room]?.temp ?? 21;
  }

  // -------------------------------------------------------------------------------------------- devices

  private initDevice(d: SimDevice, home: ResidentState, start: number): void {
    const rng = rngFor(this.seed, 'noise', d.id);
    const ds: DeviceState = {
      d,
      home,
      rng,
      seq: 0,
      powered: true,
      bootAt: start - d.uptimeS * 1000,
      lastReport: start - d.reportIntervalMs,
      battery: d.battery?.initial,
      temp: 0,
      litres: Math.round(rng.range(20_000, 200_000)),
      flowUntil: 0,
      steps: 0,
      stepsDay: localDay(start, this.offset),
      leaks: [],
      alarmed: false,
      valve: d.valve,
    };
    const room = ROOM_OF_ROLE[d.role];
    if (room) ds.temp = roomTarget(home.r.home, room, start, this.offset) + rng.normal(0, 0.3);
    home.devices[d.role] = ds;
    this.out.push({ type: 'power', at: start, deviceId: d.id, on: true });
    // Devices do not all report on the same second.
    const phase = rngFor(this.seed, 'phase', d.id);
    this.every(ds, start + Math.round(phase.range(0, d.reportIntervalMs)), (t) => this.report(ds, t));
    this.every(ds, start + Math.round(phase.range(0, d.heartbeatIntervalMs)), (t) => {
      this.heartbeat(ds, t);
      return d.heartbeatIntervalMs;
    });
  }

  /** Runs `tick` at `first` and then after the delay it returns, for as long as the device lives. */
  private every(ds: DeviceState, first: number, tick: (t: number) => number): void {
    const run = (t: number) => {
      if (ds.battery === 0 && ds.drain) return; // dead for good
      const next = ds.powered ? tick(t) : ds.d.reportIntervalMs;
      this.queue.schedule(t + next, run);
    };
    this.queue.schedule(first, run);
  }

  private emit(
    ds: DeviceState,
    channel: UplinkChannel,
    body: Record<string, unknown>,
    t: number,
    fault?: { payload: Payload; topic: string; expect: ErrorCode },
  ): void {
    if (!ds.powered) return;
    const seq = ds.seq;
    ds.seq = (ds.seq + 1) % SEQ_WRAP;
    const skewed = ds.skew && t >= ds.skew.from && t < ds.skew.until ? ds.skew.ms : 0;
    const ts = t + skewed;
    const payload = fault?.payload ?? { ts, seq, ...body };
    const expect = fault?.expect ?? clockExpectation(ts, t);
    const msg: SimOutput = {
      type: 'publish',
      at: t,
      deviceId: ds.d.id,
      channel,
      topic: fault?.topic ?? topicFor(ds.d.id, channel),
      payload,
      dup: false,
      ...(expect ? { expect } : {}),
    };
    this.out.push(msg);
    if (ds.duplicates && t >= ds.duplicates.from && t < ds.duplicates.until)
      this.out.push({ ...msg, dup: true });
  }

  private updateBattery(ds: DeviceState, t: number): number | undefined {
    if (ds.battery === undefined || !ds.d.battery) return undefined;
    const dt = t - ds.lastReport;
    if (ds.drain && t >= ds.drain.from) {
      ds.battery = Math.max(0, ds.drain.level * (1 - (t - ds.drain.from) / ds.drain.over));
    } else if (ds.d.kind === 'wearable' && this.charging(ds.home, t)) {
      ds.battery = Math.min(100, ds.battery + (40 * dt) / HOUR);
    } else {
      ds.battery = Math.max(1, ds.battery - (ds.d.battery.drainPerDay * dt) / DAY);
    }
    return Math.round(ds.battery);
  }

  private charging(state: ResidentState, t: number): boolean {
    return t >= state.plan.charging.from && t < state.plan.charging.to;
  }

  /** One telemetry reading; returns when the next is due. */
  private report(ds: DeviceState, t: number): number {
    const battery = this.updateBattery(ds, t);
    const extra = battery === undefined ? {} : { battery };
    let next = ds.d.reportIntervalMs;
    switch (ds.d.kind) {
      case 'wearable':
        this.emit(ds, 'telemetry', { ...this.wearable(ds, t), ...extra }, t);
        break;
      case 'gas_sensor':
        next = this.gas(ds, t);
        break;
      case 'env_monitor':
        this.emit(ds, 'telemetry', { ...this.env(ds, t), ...extra }, t);
        break;
      case 'water_meter':
        this.emit(
          ds,
          'telemetry',
          { litres: round1(ds.litres), flowLpm: t < ds.flowUntil ? round1(ds.rng.range(5, 9)) : 0, ...extra },
          t,
        );
        break;
    }
    ds.lastReport = t;
    return next;
  }

  private wearable(ds: DeviceState, t: number): Record<string, unknown> {
    const state = ds.home;
    const day = localDay(t, this.offset);
    if (day !== ds.stepsDay) {
      ds.steps = 0;
      ds.stepsDay = day;
    }
    const worn = !this.charging(state, t) && t >= state.notWornUntil;
    if (!worn) return { steps: ds.steps, worn: false };
    const activity = state.override?.activity ?? state.activity;
    ds.steps = Math.min(200_000, ds.steps + stepsIn(activity, (t - ds.lastReport) / MINUTE, ds.rng));
    const v = vitals(
      state.r.physiology,
      {
        activity,
        asleep: !state.override && state.asleep,
        roomTemp: this.roomTemp(state),
        hrExtra: state.override?.hrExtra,
      },
      ds.rng,
    );
    return { ...v, steps: ds.steps, activity, worn: true };
  }

  private env(ds: DeviceState, t: number): Record<string, unknown> {
    const state = ds.home;
    const room = ROOM_OF_ROLE[ds.d.role]!;
    const climate = state.climate && t < state.climate.until ? state.climate : undefined;
    const target =
      roomTarget(state.r.home, room, t, this.offset, climate) +
      (room === 'kitchen' && state.cooking && state.place === 'kitchen' ? 1.5 : 0) +
      (room === 'bathroom' && t < state.showerUntil ? 2 : 0);
    ds.temp = drift(ds.temp, target, t - ds.lastReport, climate);
    const humidity =
      baseHumidity(t, this.offset) +
      (room === 'bathroom' && t < state.showerUntil ? 25 : 0) +
      (room === 'kitchen' && state.cooking ? 8 : 0) +
      ds.rng.normal(0, 2);
    const moved = (state.lastMoved[room] ?? -Infinity) > ds.lastReport;
    return {
      temperature: round1(ds.temp + ds.rng.normal(0, 0.1)),
      humidity: Math.round(clamp(humidity, 15, 98)),
      motion: this.awakeIn(state, room) || moved,
      ...(room === 'entrance' ? { door: state.doorOpen ? 'open' : 'closed' } : {}),
    };
  }

  /** A gas reading (and an alarm event when the level crosses the detector's set point). */
  private gas(ds: DeviceState, t: number): number {
    const co = ds.d.gas === 'co';
    const state = ds.home;
    const cooking = state.cooking && state.place === 'kitchen' && !state.override;
    const leak = ds.leaks.reduce((sum, l) => sum + leakLevel(l, t), 0);
    for (const l of ds.leaks) if (ds.valve === 'open' && t >= l.start + l.ramp + l.hold) ds.valve = 'closed';
    const background = co
      ? ds.rng.range(0, 3) + (cooking ? ds.rng.range(1, 5) : 0)
      : ds.rng.range(0, 0.6) + (cooking ? ds.rng.range(0.5, 2) : 0);
    const level = co
      ? Math.round(clamp(background + leak, 0, 10_000))
      : round1(clamp(background + leak, 0, 100));
    const unit = co ? 'ppm' : '%LEL';
    const setPoint = co ? 100 : 25;
    const ageDays = ds.d.sensorAgeDays! + Math.floor((t - ds.bootAt) / DAY);
    this.emit(
      ds,
      'telemetry',
      {
        gas: ds.d.gas,
        concentration: level,
        unit,
        sensorAgeDays: Math.min(20_000, ageDays),
        ...(ds.valve ? { valve: ds.valve } : {}),
      },
      t,
    );
    if (level >= setPoint && !ds.alarmed) {
      ds.alarmed = true;
      this.emit(ds, 'event', { type: 'gas_alarm', gas: ds.d.gas, concentration: level, unit }, t);
    } else if (level < setPoint / 2) {
      ds.alarmed = false;
    }
    return level >= (co ? 35 : 10) ? ALARM_INTERVAL_MS : ds.d.reportIntervalMs;
  }

  private heartbeat(ds: DeviceState, t: number): void {
    this.emit(
      ds,
      'heartbeat',
      {
        firmware: ds.d.firmware,
        rssi: Math.round(clamp(ds.d.rssi + ds.rng.normal(0, 3), -130, 0)),
        ...(ds.battery === undefined ? {} : { battery: Math.round(ds.battery) }),
        uptime: Math.max(0, Math.floor((t - ds.bootAt) / 1000)),
      },
      t,
    );
  }

  private power(ds: DeviceState, on: boolean, t: number): void {
    if (ds.powered === on) return;
    ds.powered = on;
    if (on) ds.bootAt = t;
    this.out.push({ type: 'power', at: t, deviceId: ds.d.id, on });
  }

  // ------------------------------------------------------------------------------------------ scenarios

  private apply(s: ResolvedScenario, t: number, residents: Map<string, ResidentState>): void {
    const state = residents.get(s.residents[0]!.key)!;
    const ds = s.device ? state.devices[s.device.role]! : undefined;
    const wearable = state.devices.wearable;
    const sc = s.scenario;
    switch (sc.kind) {
      case 'sos':
        if (wearable) this.emit(wearable, 'event', { type: 'sos' }, t);
        return;
      case 'fall': {
        if (wearable) {
          const fallSeq = wearable.seq;
          const confidence = Math.round(wearable.rng.range(0.7, 0.95) * 100) / 100;
          this.emit(wearable, 'event', { type: 'fall', confidence, cancellable: true, cancelWindowS: 30 }, t);
          if (sc.cancelled) {
            const after = Math.round(wearable.rng.range(8, 20) * 1000);
            this.queue.schedule(t + after, (at) =>
              this.emit(wearable, 'event', { type: 'fall_cancelled', fallSeq }, at),
            );
            return;
          }
        }
        this.setOverride(
          state,
          { kind: 'fallen', until: t + sc.for, place: state.place, activity: 'still', hrExtra: 12 },
          t,
        );
        return;
      }
      case 'collapse':
        this.setOverride(
          state,
          { kind: 'collapsed', until: t + sc.for, place: state.place, activity: 'still', hrExtra: 0 },
          t,
        );
        return;
      case 'night_wandering':
        this.setOverride(
          state,
          { kind: 'wandering', until: t + sc.for, place: 'out', activity: 'light', hrExtra: 0 },
          t,
        );
        return;
      case 'gas_leak':
      case 'co_ramp':
        ds!.leaks.push({ start: t, ramp: sc.ramp, hold: sc.hold, peak: sc.peak });
        return;
      case 'cold_home':
      case 'heat_wave': {
        const climate: ClimateOverride & { until: number } =
          sc.kind === 'cold_home'
            ? { kind: 'cold', to: sc.to, until: t + sc.for }
            : { kind: 'heat', peak: sc.peak, until: t + sc.for };
        for (const r of s.residents) residents.get(r.key)!.climate = climate;
        return;
      }
      case 'not_worn':
        state.notWornUntil = t + sc.for;
        return;
      case 'device_offline':
        this.power(ds!, false, t);
        this.queue.schedule(t + sc.for, (at) => this.power(ds!, true, at));
        return;
      case 'battery_dead':
        ds!.drain = { from: t, level: ds!.battery ?? 0, over: sc.over };
        this.queue.schedule(t + sc.over, (at) => {
          ds!.battery = 0;
          this.power(ds!, false, at);
        });
        return;
      case 'malformed':
        for (let i = 0; i < sc.count; i++) {
          const variant = sc.variant ?? MALFORMED_VARIANTS[i % MALFORMED_VARIANTS.length]!;
          this.queue.schedule(t + i * 5000, (at) =>
            this.emit(ds!, 'telemetry', {}, at, malformed(ds!.d, variant, at, ds!.seq)),
          );
        }
        return;
      case 'wrong_credentials':
        this.out.push({ type: 'credentials', at: t, deviceId: ds!.d.id, wrong: true });
        this.queue.schedule(t + sc.for, (at) =>
          this.out.push({ type: 'credentials', at, deviceId: ds!.d.id, wrong: false }),
        );
        return;
      case 'clock_skew':
        ds!.skew = { ms: sc.skew, from: t, until: t + sc.for };
        return;
      case 'duplicates':
        ds!.duplicates = { from: t, until: t + sc.for };
        return;
      case 'burst':
        for (let i = 0; i < sc.count; i++) {
          this.queue.schedule(t + Math.floor((i * sc.within) / sc.count), (at) => {
            if (ds!.powered) this.report(ds!, at);
          });
        }
        return;
    }
  }
}
