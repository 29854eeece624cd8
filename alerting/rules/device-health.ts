// Device health for one resident's device: offline (a last will that is not followed by a reconnect
// within holdS, or `missed` heartbeat intervals without any message), battery low, a wearable not worn
// for afterH of daytime, and a gas sensor that reports a fault or is past its service life. Every
// message counts as a sign of life; the deadline timer moves only when it fires.
import type { DeviceKind } from '../../firmware-protocol/index.ts';
import type { Subject } from './subject.ts';
import { ThresholdRule, orNull, type ThresholdState } from './threshold.ts';
import { Timer } from './timers.ts';

const HOUR_MS = 3_600_000;

export interface DeviceHealthState {
  lastSeen: number | null;
  offlineAt: number | null;
  notWornSince: number | null;
  battery?: ThresholdState;
  sensorAge?: ThresholdState;
}

export class DeviceHealthRules {
  private lastSeen = NaN;
  /** When the device's last will (status offline) was published, NaN when online. */
  private offlineAt = NaN;
  private notWornSince = NaN;
  // Made on a device's first battery or sensor-age reading: most devices never report a sensor age, and
  // a community has ten thousand devices.
  private battery: ThresholdRule | undefined;
  private sensorAge: ThresholdRule | undefined;
  private readonly silenceTimer = new Timer((at) => this.onSilence(at));
  private readonly lastWillTimer = new Timer((at) => this.onLastWill(at));
  private readonly notWornTimer = new Timer((at) => this.onNotWorn(at));

  constructor(
    private readonly subject: Subject,
    private readonly deviceId: string,
    private readonly kind: DeviceKind,
  ) {}

  /** When the device's last message arrived, NaN before the first. */
  get lastSeenAt(): number {
    return this.lastSeen;
  }

  /** Any message from the device itself (not its last will). */
  seen(ts: number): void {
    if (!(ts <= this.lastSeen)) this.lastSeen = ts;
    if (!Number.isNaN(this.offlineAt)) {
      this.offlineAt = NaN;
      this.subject.timers.cancel(this.lastWillTimer);
    }
    if (this.subject.outlet.raisedBy('device.offline', this.deviceId)) {
      this.subject.clear('device.offline', this.deviceId, this.facts(ts, `${this.deviceId} back online`, {}));
    }
    if (!this.silenceTimer.scheduled) this.armSilence();
  }

  lastWill(ts: number): void {
    this.offlineAt = ts;
    const cfg = this.subject.rules.device.offline;
    this.subject.timers.schedule(this.lastWillTimer, cfg.enabled ? ts + cfg.holdS * 1000 : NaN);
  }

  batteryLevel(ts: number, pct: number): void {
    const cfg = this.subject.rules.device.battery;
    if (cfg.enabled) this.batteryRule().observe(ts, pct, cfg.belowPct, NaN, NaN, 0, cfg.hysteresis);
  }

  worn(ts: number, worn: boolean): void {
    const cfg = this.subject.rules.device.notWorn;
    if (worn) {
      if (Number.isNaN(this.notWornSince)) return;
      this.notWornSince = NaN;
      this.subject.timers.cancel(this.notWornTimer);
      this.subject.clear('device.not_worn', this.deviceId, this.facts(ts, 'wearable worn again', {}));
      return;
    }
    if (!Number.isNaN(this.notWornSince) || !cfg.enabled) return;
    this.notWornSince = ts;
    this.armNotWorn();
  }

  sensorFault(ts: number, fault: boolean, detail?: string): void {
    if (!this.subject.rules.device.sensor.enabled) return;
    const facts = this.facts(
      ts,
      fault ? `${this.deviceId} reports a sensor fault` : `${this.deviceId} sensor ok`,
      {
        detail: detail ?? null,
      },
    );
    if (fault) this.subject.raise('device.sensor_fault', this.deviceId, 'warning', facts);
    else this.subject.clear('device.sensor_fault', this.deviceId, facts);
  }

  sensorAgeDays(ts: number, days: number): void {
    const cfg = this.subject.rules.device.sensor;
    if (cfg.enabled) this.sensorAgeRule().observe(ts, days, cfg.maxAgeDays, NaN, NaN, 0, 0);
  }

  /** After a restart or a rules change; timers already overdue fire on the engine's next advance. */
  rearm(): void {
    this.armSilence();
    if (!Number.isNaN(this.offlineAt)) this.lastWill(this.offlineAt);
    this.armNotWorn();
  }

  dispose(): void {
    for (const timer of [this.silenceTimer, this.lastWillTimer, this.notWornTimer])
      this.subject.timers.cancel(timer);
    this.battery?.dispose();
    this.sensorAge?.dispose();
  }

  toJSON(): DeviceHealthState {
    return {
      lastSeen: orNull(this.lastSeen),
      offlineAt: orNull(this.offlineAt),
      notWornSince: orNull(this.notWornSince),
      battery: this.battery?.toJSON(),
      sensorAge: this.sensorAge?.toJSON(),
    };
  }

  restore(s: DeviceHealthState, now: number): void {
    this.lastSeen = s.lastSeen ?? NaN;
    this.offlineAt = s.offlineAt ?? NaN;
    this.notWornSince = s.notWornSince ?? NaN;
    if (s.battery) this.batteryRule().restore(s.battery, now);
    if (s.sensorAge) this.sensorAgeRule().restore(s.sensorAge, now);
  }

  private batteryRule(): ThresholdRule {
    return (this.battery ??= this.thresholdRule('device.battery', -1, 'battery', ' %'));
  }

  private sensorAgeRule(): ThresholdRule {
    return (this.sensorAge ??= this.thresholdRule('device.sensor_age', 1, 'sensor age', ' days'));
  }

  private thresholdRule(ruleId: string, direction: 1 | -1, what: string, unit: string): ThresholdRule {
    const label = { what: `${this.deviceId} ${what}`, unit, autoClear: true };
    return new ThresholdRule(this.subject, ruleId, this.deviceId, this.deviceId, direction, true, label);
  }

  private silenceLimitMs(): number {
    const cfg = this.subject.rules.device.offline;
    return cfg.enabled ? cfg.missed * cfg.heartbeatS[this.kind] * 1000 : NaN;
  }

  /** Offline once silent for more than the limit: a message right on the limit is still in time. */
  private silenceDue(): number {
    return this.lastSeen + this.silenceLimitMs() + 1;
  }

  private armSilence(): void {
    this.subject.timers.schedule(this.silenceTimer, this.silenceDue());
  }

  private onSilence(at: number): void {
    const due = this.silenceDue();
    if (due > at) {
      this.subject.timers.schedule(this.silenceTimer, due);
      return;
    }
    const minutes = Math.round((at - this.lastSeen) / 60_000);
    this.raiseOffline(at, `${this.deviceId} silent for ${minutes} min`, {
      lastSeen: this.lastSeen,
      reason: 'silent',
    });
  }

  private onLastWill(at: number): void {
    if (Number.isNaN(this.offlineAt)) return;
    this.raiseOffline(at, `${this.deviceId} disconnected and has not come back`, {
      offlineAt: this.offlineAt,
      reason: 'last will',
    });
  }

  private raiseOffline(at: number, summary: string, evidence: Record<string, unknown>): void {
    const cfg = this.subject.rules.device.offline;
    this.subject.raise('device.offline', this.deviceId, cfg.severity, this.facts(at, summary, evidence));
  }

  private armNotWorn(): void {
    const cfg = this.subject.rules.device.notWorn;
    const due =
      cfg.enabled && !Number.isNaN(this.notWornSince)
        ? this.subject.clock.addWindowTime(this.notWornSince, cfg.afterH * HOUR_MS, cfg.day)
        : NaN;
    this.subject.timers.schedule(this.notWornTimer, due);
  }

  private onNotWorn(at: number): void {
    const hours = this.subject.rules.device.notWorn.afterH;
    this.subject.raise(
      'device.not_worn',
      this.deviceId,
      'warning',
      this.facts(at, `wearable not worn for ${hours} h of daytime`, { notWornSince: this.notWornSince }),
    );
  }

  private facts(at: number, summary: string, evidence: Record<string, unknown>) {
    return { at, deviceId: this.deviceId, summary, evidence, autoClear: true };
  }
}
