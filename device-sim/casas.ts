// A real home as Anju device traffic: the CASAS smart-home files of Washington State University (one line
// per sensor event, `date time location sensor value activity`, local time) become the MQTT messages an
// Anju home would send: each motion sensor switching ON (or a light switched on) a motion event of the
// env monitor in that room, each front-door OPEN/CLOSE a door event of the entrance monitor, and a
// heartbeat from every monitor every 5 minutes. Tests and benchmarks read the data from where it lies
// (../shared/casas/); CASAS asks that it not be redistributed, so none of it is ever copied here.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { topicFor, type UplinkChannel } from '../firmware-protocol/index.ts';
import type { DevicesFile } from '../alerting/resident-context.ts';
import { clockFor } from '../alerting/rules/local-time.ts';

/** The WSU CASAS testbeds are in Pullman, Washington. */
export const CASAS_TIME_ZONE = 'America/Los_Angeles';
export const CASAS_RESIDENT = 'rs_casas';
const HOME = 'hm_casas';

/**
 * One env monitor per room; the entry's motion sensor and the front-door contact share one. The home had
 * no wearable: W-CASAS only names the resident the home's monitors watch over, and sends nothing.
 */
export const CASAS_DEVICES: DevicesFile = {
  'W-CASAS': { kind: 'wearable', residentId: CASAS_RESIDENT, homeId: HOME },
  'E-BED': { kind: 'env_monitor', homeId: HOME, room: 'bedroom' },
  'E-BATH': { kind: 'env_monitor', homeId: HOME, room: 'bathroom' },
  'E-KIT': { kind: 'env_monitor', homeId: HOME, room: 'kitchen' },
  'E-LIV': { kind: 'env_monitor', homeId: HOME, room: 'living' },
  'E-WORK': { kind: 'env_monitor', homeId: HOME, room: 'other' },
  'E-ENTRY': { kind: 'env_monitor', homeId: HOME, room: 'entrance' },
};

/** CASAS sensor name -> the device that reports it. */
const SENSOR_DEVICE: Record<string, string> = {
  Bedroom: 'E-BED',
  Closet: 'E-BED',
  Bathroom: 'E-BATH',
  BathroomLight: 'E-BATH',
  Kitchen: 'E-KIT',
  KitchenLight: 'E-KIT',
  LivingRoom: 'E-LIV',
  LoungeChair: 'E-LIV',
  WorkArea: 'E-WORK',
  WorkAreaLight: 'E-WORK',
  Entry: 'E-ENTRY',
  FrontDoor: 'E-ENTRY',
};

export type CasasEventKind = 'motion' | 'door_open' | 'door_closed';

export interface CasasEvent {
  /** Unix ms. */
  ts: number;
  deviceId: string;
  kind: CasasEventKind;
  /** The annotators' activity label (Leave_Home, Enter_Home, Sleep, ...). */
  activity: string;
}

/** A message as `anju replay` reads it. */
export interface ReplayLine {
  topic: string;
  payload: Record<string, unknown>;
}

/** Reads a CASAS data file, gzipped or not. */
export function readCasasFile(file: string): string {
  const bytes = readFileSync(file);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

/**
 * Days the recordings are moved forward, keeping each event's local wall-clock time and weekday: the
 * device contract refuses timestamps before 2020, and 2011-06-15 becomes Wednesday 2025-06-11.
 */
export const CASAS_SHIFT_DAYS = 730 * 7;

/** The events Anju would see, in time order; OFF readings and unknown sensors carry no sign of life. */
export function parseCasas(
  text: string,
  timeZone = CASAS_TIME_ZONE,
  shiftDays = CASAS_SHIFT_DAYS,
): CasasEvent[] {
  const clock = clockFor(timeZone);
  const events: CasasEvent[] = [];
  for (const line of text.split('\n')) {
    const [date, time, , sensor, value, activity] = line.trim().split(/\s+/);
    if (date === undefined || time === undefined || sensor === undefined) continue;
    const deviceId = SENSOR_DEVICE[sensor];
    if (deviceId === undefined) continue;
    const kind: CasasEventKind | undefined =
      value === 'ON'
        ? 'motion'
        : value === 'OPEN'
          ? 'door_open'
          : value === 'CLOSE'
            ? 'door_closed'
            : undefined;
    if (kind === undefined) continue;
    const ts = localToUtc(date, time, shiftDays, clock.offset.bind(clock));
    if (Number.isNaN(ts)) continue;
    events.push({ ts, deviceId, kind, activity: activity ?? '' });
  }
  return events.sort((a, b) => a.ts - b.ts);
}

function localToUtc(date: string, time: string, shiftDays: number, offset: (ts: number) => number): number {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d + shiftDays, h, mi, 0) + Math.round(s * 1000);
  // The zone's offset at the guessed instant, then once more at the corrected one (exact outside the
  // hour a clock change repeats or skips).
  const guess = asUtc - offset(asUtc);
  return asUtc - offset(guess);
}

/**
 * The month as device messages, in time order: one event per motion or door change and a heartbeat
 * from every monitor every `heartbeatMs` (default 5 min), from the first event to the last.
 */
export function casasMessages(events: readonly CasasEvent[], heartbeatMs = 5 * 60_000): ReplayLine[] {
  const lines: ReplayLine[] = [];
  const seqs = new Map<string, number>();
  const send = (deviceId: string, channel: UplinkChannel, ts: number, body: Record<string, unknown>) => {
    const seq = (seqs.get(deviceId) ?? 0) + 1;
    seqs.set(deviceId, seq);
    lines.push({ topic: topicFor(deviceId, channel), payload: { ts, seq, ...body } });
  };
  if (events.length === 0) return lines;
  const deviceIds = Object.keys(CASAS_DEVICES).filter((id) => CASAS_DEVICES[id]!.kind === 'env_monitor');
  let nextHeartbeat = Math.ceil(events[0]!.ts / heartbeatMs) * heartbeatMs;
  const heartbeatsUntil = (ts: number) => {
    for (; nextHeartbeat <= ts; nextHeartbeat += heartbeatMs) {
      for (const id of deviceIds)
        send(id, 'heartbeat', nextHeartbeat, { firmware: '1.0.0', rssi: -60, uptime: 1000 });
    }
  };
  for (const e of events) {
    heartbeatsUntil(e.ts);
    if (e.kind === 'motion') send(e.deviceId, 'event', e.ts, { type: 'motion' });
    else send(e.deviceId, 'event', e.ts, { type: 'door', state: e.kind === 'door_open' ? 'open' : 'closed' });
  }
  heartbeatsUntil(events[events.length - 1]!.ts);
  return lines;
}

/** An absence as the annotators marked it: the door at Leave_Home, the door at the next Enter_Home. */
export interface Absence {
  left: number;
  returned: number;
}

export function annotatedAbsences(events: readonly CasasEvent[]): Absence[] {
  const absences: Absence[] = [];
  let left = NaN;
  for (const e of events) {
    if (e.kind !== 'door_open') continue;
    if (e.activity === 'Leave_Home') left = e.ts;
    else if (e.activity === 'Enter_Home' && !Number.isNaN(left)) {
      absences.push({ left, returned: e.ts });
      left = NaN;
    }
  }
  return absences;
}
