// For tests: a rule engine fed through the replayer, so every test message passes the real protocol
// validation, with local times in the home's zone and the signals collected.
import { topicFor, type UplinkChannel } from '../firmware-protocol/index.ts';
import { RuleEngine } from './engine.ts';
import { Replayer } from './replay.ts';
import { devicesFileContext, type DevicesFile } from './resident-context.ts';
import { parseRules, type RuleSet } from './rules/load.ts';
import { AlertSignal } from './signals.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;
const SHANGHAI_OFFSET = 8 * HOUR;

/** Local time in Asia/Shanghai on day `day` after Monday 2025-01-06: at(0, '07:30'). */
export function at(day: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Date.UTC(2025, 0, 6 + day, h, m) - SHANGHAI_OFFSET;
}

/** One resident (rs_1) in home hm_1 with one device of each kind. */
export const HOME: DevicesFile = {
  'W-1': { kind: 'wearable', residentId: 'rs_1', homeId: 'hm_1' },
  'G-1': { kind: 'gas_sensor', homeId: 'hm_1', room: 'kitchen' },
  'E-BED': { kind: 'env_monitor', homeId: 'hm_1', room: 'bedroom' },
  'E-LIV': { kind: 'env_monitor', homeId: 'hm_1', room: 'living' },
  'E-DOOR': { kind: 'env_monitor', homeId: 'hm_1', room: 'entrance' },
  'M-1': { kind: 'water_meter', homeId: 'hm_1', room: 'kitchen' },
};

export class EngineKit {
  readonly engine: RuleEngine;
  readonly signals: AlertSignal[] = [];
  private readonly replayer: Replayer;
  private readonly seqs = new Map<string, number>();

  constructor(devices: DevicesFile = HOME, rules: RuleSet | string = '') {
    const context = devicesFileContext(devices);
    const ruleSet = typeof rules === 'string' ? parseRules(rules, 'yaml') : rules;
    this.engine = new RuleEngine({ context, rules: ruleSet });
    // Every signal must pass the contract the alert lifecycle parses it with.
    this.engine.onSignal((s) => this.signals.push(AlertSignal.parse(s)));
    this.replayer = new Replayer(this.engine, context, (line, reason) => {
      throw new Error(`test message refused: ${reason}`);
    });
  }

  /** Sends one message as the device would (seq is added); the clock moves to its ts first. */
  send(deviceId: string, channel: UplinkChannel, ts: number, body: Record<string, unknown>): void {
    const seq = (this.seqs.get(deviceId) ?? 0) + 1;
    this.seqs.set(deviceId, seq);
    const payload = channel === 'status' ? { ts, ...body } : { ts, seq, ...body };
    this.replayer.line(JSON.stringify({ topic: topicFor(deviceId, channel), payload }));
  }

  telemetry(deviceId: string, ts: number, body: Record<string, unknown>): void {
    this.send(deviceId, 'telemetry', ts, body);
  }

  event(deviceId: string, ts: number, body: Record<string, unknown>): number {
    this.send(deviceId, 'event', ts, body);
    return this.seqs.get(deviceId)!;
  }

  heartbeat(deviceId: string, ts: number): void {
    this.send(deviceId, 'heartbeat', ts, { firmware: '1.0.0', rssi: -60, uptime: 100 });
  }

  /** Heartbeats from every device every `everyMs` in [from, to): keeps devices online and time moving. */
  heartbeats(from: number, to: number, everyMs = 5 * MIN, devices: string[] = Object.keys(HOME)): void {
    for (let t = from; t < to; t += everyMs) for (const d of devices) this.heartbeat(d, t);
  }

  advanceTo(ts: number): void {
    this.engine.advanceTo(ts);
  }

  /** Signals of one rule (and action, default raise). */
  of(ruleId: string, action: 'raise' | 'clear' = 'raise'): AlertSignal[] {
    return this.signals.filter((s) => s.ruleId === ruleId && s.action === action);
  }

  /** Rules with any raise at warning or above: what would reach a person. */
  alerted(): string[] {
    return [
      ...new Set(
        this.signals.filter((s) => s.action === 'raise' && s.severity !== 'info').map((s) => s.ruleId),
      ),
    ];
  }
}
