// What one device means for one resident it watches over: the device-level rules (health, gas, room
// climate, vital signs) and the translation of its messages into signs of life and events for the
// resident's own rules. A wearable watches its wearer; a home device every resident of its home.
import type {
  DeviceKind,
  EnvEvent,
  EnvTelemetry,
  GasEvent,
  GasTelemetry,
  UplinkMessage,
  WaterMeterEvent,
  WaterMeterTelemetry,
  WearableEvent,
  WearableTelemetry,
} from '../../firmware-protocol/index.ts';
import { frontDoorOpened } from './absence.ts';
import { ClimateRules, type ClimateState } from './climate.ts';
import { DeviceHealthRules, type DeviceHealthState } from './device-health.ts';
import { continuousFlow, flowStopped, smokeDetected, sosPressed, waterLeakDetected } from './events.ts';
import { GasSensorRules, type GasSensorState } from './gas.ts';
import type { Subject } from './subject.ts';
import { orNull } from './threshold.ts';
import { VitalsRules, type VitalsState } from './vitals.ts';

export interface DeviceBindingState {
  health: DeviceHealthState;
  gas?: GasSensorState;
  climate?: ClimateState;
  vitals?: VitalsState;
  steps: number | null;
  door: 'open' | 'closed' | null;
  /** The env monitor's previous report (absent from snapshots of before it was kept). */
  lastReport?: number | null;
}

export class DeviceBinding {
  private readonly health: DeviceHealthRules;
  private readonly gas: GasSensorRules | undefined;
  private readonly climate: ClimateRules | undefined;
  private readonly vitals: VitalsRules | undefined;
  private steps = NaN;
  private door: 'open' | 'closed' | null = null;
  private lastReport = NaN;
  /** A door contact at the entrance (or in an unnamed room: most homes have one, at the front door). */
  private readonly frontDoor: boolean;

  constructor(
    private readonly subject: Subject,
    readonly deviceId: string,
    readonly kind: DeviceKind,
    room: string | null,
  ) {
    this.health = new DeviceHealthRules(subject, deviceId, kind);
    if (kind === 'gas_sensor') this.gas = new GasSensorRules(subject, deviceId);
    if (kind === 'env_monitor') this.climate = new ClimateRules(subject, deviceId, room);
    if (kind === 'wearable') this.vitals = new VitalsRules(subject, deviceId);
    this.frontDoor = room === null || room === 'entrance';
  }

  get subjectId(): string {
    return this.subject.id;
  }

  /** When the device last sent anything, NaN before the first message. */
  get lastSeen(): number {
    return this.health.lastSeenAt;
  }

  /**
   * `ts` is the message's event time (engine.ts eventTime), `arrivedAt` when it reached Anju. A device is
   * alive when its messages arrive: one uploading a backlog of old readings is online, not silent.
   */
  accept(message: UplinkMessage, ts: number, arrivedAt: number): void {
    this.subject.dirty = true;
    switch (message.channel) {
      case 'status':
        if (message.body.state === 'offline') this.health.lastWill(ts);
        else this.health.seen(arrivedAt);
        return;
      case 'heartbeat':
        this.health.seen(arrivedAt);
        if (message.body.battery !== undefined) this.health.batteryLevel(ts, message.body.battery);
        return;
      case 'telemetry':
        this.health.seen(arrivedAt);
        this.telemetry(message.body, ts);
        return;
      case 'event':
        this.health.seen(arrivedAt);
        this.event(message.body, ts);
        return;
    }
  }

  rearm(): void {
    this.health.rearm();
  }

  /** The device no longer watches over this resident: stop its timers. */
  dispose(): void {
    this.health.dispose();
    this.gas?.dispose();
    this.climate?.dispose();
    this.vitals?.dispose();
  }

  toJSON(): DeviceBindingState {
    return {
      health: this.health.toJSON(),
      gas: this.gas?.toJSON(),
      climate: this.climate?.toJSON(),
      vitals: this.vitals?.toJSON(),
      steps: orNull(this.steps),
      door: this.door,
      lastReport: orNull(this.lastReport),
    };
  }

  restore(s: DeviceBindingState, now: number): void {
    this.health.restore(s.health, now);
    if (s.gas) this.gas?.restore(s.gas, now);
    if (s.climate) this.climate?.restore(s.climate, now);
    if (s.vitals) this.vitals?.restore(s.vitals, now);
    this.steps = s.steps ?? NaN;
    this.door = s.door;
    this.lastReport = s.lastReport ?? NaN;
  }

  private telemetry(body: Extract<UplinkMessage, { channel: 'telemetry' }>['body'], ts: number): void {
    if ('battery' in body && body.battery !== undefined) this.health.batteryLevel(ts, body.battery);
    switch (this.kind) {
      case 'wearable':
        this.wearable(body as WearableTelemetry, ts);
        return;
      case 'gas_sensor': {
        const gas = body as GasTelemetry;
        this.gas!.telemetry(gas, ts);
        if (gas.sensorFault !== undefined) this.health.sensorFault(ts, gas.sensorFault);
        if (gas.sensorAgeDays !== undefined) this.health.sensorAgeDays(ts, gas.sensorAgeDays);
        return;
      }
      case 'env_monitor':
        this.environment(body as EnvTelemetry, ts);
        return;
      case 'water_meter': {
        const water = body as WaterMeterTelemetry;
        this.subject.water.reading(ts, water.litres, this.deviceId);
        if (water.flowLpm === 0) flowStopped(this.subject, ts, this.deviceId);
        return;
      }
    }
  }

  private wearable(w: WearableTelemetry, ts: number): void {
    this.health.worn(ts, w.worn);
    this.vitals!.telemetry(w, ts);
    // Steps count from local midnight: a drop is a new day, a rise is the wearer walking.
    let moved = false;
    if (w.steps !== undefined) {
      moved = w.steps > this.steps;
      this.steps = w.steps;
    }
    if (w.worn && (moved || (w.activity !== undefined && w.activity !== 'still')))
      this.subject.noteActivity(ts);
  }

  private environment(e: EnvTelemetry, ts: number): void {
    if (e.temperature !== undefined) this.climate!.temperature(ts, e.temperature);
    // "Motion seen since the last report": some time after the previous report, not necessarily now.
    if (e.motion === true) this.subject.noteInsideMotion(ts, this.lastReport);
    this.lastReport = ts;
    // Telemetry repeats the door's state: only a change is an event.
    if (e.door !== undefined && e.door !== this.door) this.doorChanged(ts, e.door, e.door === 'open');
    if (e.smoke !== undefined) smokeDetected(this.subject, ts, this.deviceId, e.smoke);
    if (e.waterLeak !== undefined) waterLeakDetected(this.subject, ts, this.deviceId, e.waterLeak);
  }

  private doorChanged(ts: number, state: 'open' | 'closed', opened: boolean): void {
    this.door = state;
    if (!this.frontDoor) {
      this.subject.noteActivity(ts);
      return;
    }
    this.subject.noteFrontDoor(ts);
    if (opened) frontDoorOpened(this.subject, ts, this.deviceId);
  }

  private event(body: Extract<UplinkMessage, { channel: 'event' }>['body'], ts: number): void {
    switch (this.kind) {
      case 'wearable': {
        const e = body as WearableEvent;
        if (e.type === 'sos') {
          this.subject.noteActivity(ts);
          sosPressed(this.subject, ts, this.deviceId);
        } else if (e.type === 'fall') this.subject.fall.detected(e, ts, this.deviceId);
        else {
          this.subject.noteActivity(ts);
          this.subject.fall.cancelled(e.fallSeq, ts, this.deviceId);
        }
        return;
      }
      case 'gas_sensor': {
        const e = body as GasEvent;
        if (e.type === 'gas_alarm') this.gas!.event(e, ts);
        else this.health.sensorFault(ts, true, e.detail);
        return;
      }
      case 'env_monitor': {
        const e = body as EnvEvent;
        if (e.type === 'motion') this.subject.noteInsideMotion(ts);
        else if (e.type === 'door') this.doorChanged(ts, e.state, e.state === 'open');
        else if (e.type === 'smoke_alarm') smokeDetected(this.subject, ts, this.deviceId, true);
        else waterLeakDetected(this.subject, ts, this.deviceId, true);
        return;
      }
      case 'water_meter': {
        const e = body as WaterMeterEvent;
        continuousFlow(this.subject, ts, this.deviceId, e.minutes);
        return;
      }
    }
  }
}
