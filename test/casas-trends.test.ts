// Resident trends on one real home nobody here wrote: a month of the CASAS (WSU) smart home in
// ../shared/casas/, read where it lies (its owners ask that it not be redistributed), sent through the
// device contract (decode, then the points ingest stores) into a real SQLite telemetry store, and read
// back by the trends. The annotators marked each night's trips from bed to the toilet
// (Bed_Toilet_Transition): the visits are checked against those, the rest against plausible bounds, and
// all of it printed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRules } from '../alerting/rules/load.ts';
import { clockFor } from '../alerting/rules/local-time.ts';
import { nightOf } from '../dashboard/reports/nights.ts';
import { residentTrends, type Trend } from '../dashboard/reports/trends.ts';
import {
  CASAS_DEVICES,
  CASAS_RESIDENT,
  CASAS_TIME_ZONE,
  casasMessages,
  parseCasas,
  readCasasFile,
  type CasasEvent,
} from '../device-sim/casas.ts';
import { decodeUplink, parseTopic } from '../firmware-protocol/index.ts';
import { toPoints } from '../ingest/points.ts';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.ts';
import type { Point } from '../ingest/store/types.ts';

const DATA = path.resolve(import.meta.dirname, '../../shared/casas/al-smarthome-data.txt.gz');

let events: CasasEvent[];
let dir: string;
let store: SqliteTelemetryStore;
let trends: Trend[];
let days: number[];
const rules = parseRules(`timezone: ${CASAS_TIME_ZONE}`, 'yaml').community;
const clock = clockFor(CASAS_TIME_ZONE);

beforeAll(async () => {
  if (!existsSync(DATA)) throw new Error(`the CASAS data is missing: ${DATA} (../shared/casas/)`);
  events = parseCasas(readCasasFile(DATA));
  const points: Point[] = [];
  for (const line of casasMessages(events)) {
    const topic = parseTopic(line.topic)!;
    const device = CASAS_DEVICES[topic.deviceId]!;
    const payload = new TextEncoder().encode(JSON.stringify(line.payload));
    const decoded = decodeUplink(device.kind, topic.channel as never, payload, line.payload.ts as number);
    if (!decoded.ok) throw new Error(`CASAS message refused: ${decoded.error.message}`);
    points.push(
      ...toPoints({
        deviceId: topic.deviceId,
        kind: device.kind,
        residentId: device.residentId ?? null,
        homeId: device.homeId ?? null,
        receivedAt: line.payload.ts as number,
        qos: 1,
        message: decoded.message,
      }),
    );
  }
  dir = mkdtempSync(path.join(tmpdir(), 'anju-casas-trends-'));
  store = new SqliteTelemetryStore({ dataDir: dir });
  for (let i = 0; i < points.length; i += 5_000) await store.write(points.slice(i, i + 5_000));
  const now = events.at(-1)!.ts + 1;
  trends = await residentTrends(store, {
    residentId: CASAS_RESIDENT,
    days: 30,
    timeZone: CASAS_TIME_ZONE,
    now,
    home: {
      devices: Object.entries(CASAS_DEVICES)
        .filter(([, d]) => d.kind === 'env_monitor')
        .map(([id, d]) => ({ id, room: d.room ?? null })),
      sleep: rules.absence.routine.sleep,
      nightDoor: rules.absence.nightDoor.window,
    },
  });
  const last = clock.day(now);
  days = Array.from({ length: 30 }, (_, i) => last - 29 + i);
}, 120_000);
afterAll(async () => {
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const values = (name: Trend['series']) => trends.find((t) => t.series === name)!.days.map((d) => d.value);
const known = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The annotators' trips from bed to the toilet that began in each night: runs of the label. */
function annotatedTrips(): number[] {
  const starts: number[] = [];
  let inTrip = false;
  for (const e of events) {
    const trip = e.activity === 'Bed_Toilet_Transition';
    if (trip && !inTrip) starts.push(e.ts);
    inTrip = trip;
  }
  return days.map((day) => {
    const { start, end } = nightOf(clock, day, rules.absence.routine.sleep);
    return starts.filter((t) => t >= start && t < end).length;
  });
}

describe('trends on a real home (CASAS, 30 days, one person living alone)', () => {
  it('counts night-time bathroom visits close to the trips the annotators marked', () => {
    const visits = values('nightBathroomVisits');
    const trips = annotatedTrips();
    console.log('night bathroom visits (ours):       ', visits.join(' '));
    console.log('trips from bed to toilet (annotated):', trips.join(' '));
    const ours = known(visits);
    expect(ours.length).toBeGreaterThanOrEqual(27); // the first and last nights are partly outside the data
    // Plausible for an older person: none to a few a night.
    expect(Math.max(...ours)).toBeLessThanOrEqual(8);
    expect(mean(ours)).toBeGreaterThan(0.5);
    expect(mean(ours)).toBeLessThan(4);
    // Night by night, the same as the annotators' trips, give or take one.
    const paired = visits.flatMap((v, i) => (v === null ? [] : [[v, trips[i]!] as const]));
    const sumOurs = paired.reduce((n, [v]) => n + v, 0);
    const sumTrips = paired.reduce((n, [, t]) => n + t, 0);
    const same = paired.filter(([v, t]) => v === t).length;
    console.log(
      `total: ours ${sumOurs}, annotated ${sumTrips}; the same on ${same} of ${paired.length} nights`,
    );
    for (const [v, t] of paired) expect(Math.abs(v - t)).toBeLessThanOrEqual(1);
    expect(same / paired.length).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(sumOurs - sumTrips)).toBeLessThanOrEqual(sumTrips * 0.1);
  });

  it('puts her in bed for a plausible night, most nights', () => {
    const hours = known(values('nightInBedH'));
    console.log('hours in bed per night:', hours.join(' '));
    console.log(`mean ${mean(hours).toFixed(2)} h`);
    expect(hours.length).toBeGreaterThanOrEqual(27);
    expect(mean(hours)).toBeGreaterThan(5);
    expect(mean(hours)).toBeLessThan(9.01); // the window is 9 h long
    expect(hours.filter((h) => h >= 4).length / hours.length).toBeGreaterThan(0.8);
  });

  it('counts her motion every day she was there', () => {
    const motion = values('motionEvents');
    console.log('motion events per day:', motion.join(' '));
    const ours = known(motion);
    expect(ours).toHaveLength(30);
    // Every motion event of the month was seen, on its own local day.
    const inDays = events.filter(
      (e) => e.kind === 'motion' && clock.day(e.ts) >= days[0]! && clock.day(e.ts) <= days.at(-1)!,
    ).length;
    expect(ours.reduce((a, b) => a + b, 0)).toBe(inDays);
    expect(Math.min(...ours.slice(1, -1))).toBeGreaterThan(100);
  });
});
