// Motion events, time in bed and night-time bathroom visits from real telemetry stores (SQLite, InfluxDB) holding
// nine weeks of a seeded home's room sensors (events and motion reports, as devices send them), against
// figures this test works out itself: motion counted per local date, time in bed minute by minute from
// the last room seen, and the bathroom visits it wrote. The last week's restless nights are marked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.ts';
import { InfluxTelemetryStore } from '../../ingest/store/influx.ts';
import type { Point, TelemetryStore } from '../../ingest/store/types.ts';
import { sharedInfluxdUrl } from '../../test/influxd.ts';
import { residentTrends, type Trend, type TrendHome } from './trends.ts';

const ZONE = 'Asia/Shanghai'; // UTC+8 all year: the test's own local dates are plain arithmetic
const OFFSET = 8 * 3_600_000;
const MIN = 60_000;
const DAY = 86_400_000;
const DAYS = 63; // nine weeks
let nightsDatabases = 0;
const FIRST = Date.parse('2026-09-29T00:00:00+08:00');
const NOW = FIRST + (DAYS - 1) * DAY + 20 * 60 * MIN; // 20:00 on the last day
// Not the rules' default, to show the resident's own window is used: 22:30 to 06:30.
const SLEEP = { from: 22 * 60 + 30, to: 6 * 60 + 30 };

const HOME: TrendHome = {
  devices: [
    { id: 'e-bed', room: 'bedroom' },
    { id: 'e-bath', room: 'bathroom' },
    { id: 'e-kit', room: 'kitchen' },
    { id: 'e-liv', room: 'living' },
    { id: 'e-door', room: 'entrance' },
  ],
  sleep: SLEEP,
  nightDoor: { from: 22 * 60, to: 6 * 60 },
};
const ROOM_OF = new Map(HOME.devices.map((d) => [d.id, d.room]));

/** A small seeded generator (mulberry32), so the month is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Written {
  ts: number;
  deviceId: string;
  how: 'event' | 'report' | 'door';
}

const written: Written[] = [];
/** Bathroom visits the test wrote, by the local day whose night they fall in. */
const visitsWritten = new Map<number, number>();
const points: Point[] = [];

/** The home's nine weeks, as the test writes them and as the store gets them. */
function seed(): void {
  const rnd = random(15);
  const at = (day: number, minute: number) => FIRST + day * DAY + Math.round(minute) * MIN;
  const seen = new Set<string>();
  const add = (ts: number, deviceId: string, how: Written['how'] = 'event') => {
    // A second reading of the same device, kind and instant replaces the first in the store.
    const key = `${deviceId} ${how} ${ts}`;
    if (ts > NOW || seen.has(key)) return;
    seen.add(key);
    written.push({ ts, deviceId, how });
  };
  for (let d = 0; d < DAYS; d++) {
    const restless = d >= DAYS - 7;
    const wake = 5 * 60 + 40 + rnd() * 100; // 05:40 .. 07:20
    add(at(d, wake), 'e-kit');
    // The day: motion in the kitchen and living room, some as events, some as reports.
    const moves = 30 + Math.floor(rnd() * 40);
    for (let i = 0; i < moves; i++) {
      const minute = wake + 10 + Math.floor(rnd() * (21 * 60 - wake - 20));
      add(at(d, minute), rnd() < 0.5 ? 'e-kit' : 'e-liv', rnd() < 0.3 ? 'report' : 'event');
    }
    // Bed between 21:30 and 23:45, through the living room.
    const bed = 21 * 60 + 30 + Math.floor(rnd() * 135);
    // Now and then the door opens late in the evening, before bed.
    if (d % 9 === 4 && bed >= 22 * 60 + 15) {
      add(at(d, 22 * 60 + 5), 'e-door', 'door');
      add(at(d, 22 * 60 + 6), 'e-liv');
    }
    // A late wash before bed is in the window but not a night-time visit: she has not gone to bed yet.
    if (bed >= SLEEP.from + 20) add(at(d, bed - 15), 'e-bath');
    add(at(d, bed - 5), 'e-liv');
    add(at(d, bed), 'e-bed');
    if (rnd() < 0.5) add(at(d, bed + 7), 'e-bed', 'report');
    // Bathroom visits in the night, the first at least 30 min after going to bed (settled): a few
    // triggers each, then back to the bedroom.
    const n = restless ? 3 + Math.floor(rnd() * 2) : Math.floor(rnd() * 2);
    const nextWake = (24 + 5) * 60 + 40; // no visit after 05:40 next morning
    const slot = (nextWake - bed - 60) / Math.max(n, 1);
    for (let v = 0; v < n; v++) {
      const t = bed + 30 + v * slot + Math.floor(rnd() * (slot - 30));
      add(at(d, t), 'e-bath');
      add(at(d, t + 2), 'e-bath', 'door');
      add(at(d, t + 4), 'e-bath');
      add(at(d, t + 7), 'e-bed');
      const start = at(d, t);
      const night = dayOfNight(start);
      if (start <= NOW && night !== null) visitsWritten.set(night, (visitsWritten.get(night) ?? 0) + 1);
    }
  }
  written.sort((a, b) => a.ts - b.ts);
  const seqs = new Map<string, number>();
  for (const w of written) {
    points.push(point(w, seqs));
  }
  // Motion reports that saw nothing are not signs of life.
  points.push({
    measurement: 'env',
    tags: { deviceId: 'e-kit', homeId: 'h1' },
    fields: { motion: false },
    ts: FIRST + 3 * 60 * MIN,
    seq: 999_999,
  });
}

function point(w: Written, seqs: Map<string, number>): Point {
  const seq = (seqs.get(w.deviceId) ?? 0) + 1;
  seqs.set(w.deviceId, seq);
  const tags = { deviceId: w.deviceId, homeId: 'h1' };
  if (w.how === 'report')
    return { measurement: 'env', tags, fields: { motion: true, temperature: 21 }, ts: w.ts, seq };
  if (w.how === 'door')
    return {
      measurement: 'event',
      tags: { ...tags, type: 'door' },
      fields: { event: 'door', state: 'open' },
      ts: w.ts,
      seq,
    };
  return {
    measurement: 'event',
    tags: { ...tags, type: 'motion' },
    fields: { event: 'motion' },
    ts: w.ts,
    seq,
  };
}

seed();

/** Local day index (since FIRST) of the night a moment belongs to, or null outside the window. */
function dayOfNight(ts: number, window = SLEEP): number | null {
  const local = ts - FIRST; // FIRST is a local midnight
  const day = Math.floor(local / DAY);
  const minute = Math.floor((local - day * DAY) / MIN);
  if (minute >= window.from) return day;
  if (minute < window.to) return day - 1;
  return null;
}

const firstShown = DAYS - 30;
const isoDay = (d: number) => new Date(FIRST + OFFSET + d * DAY).toISOString().slice(0, 10);

const BACKENDS: { name: string; open(): Promise<{ store: TelemetryStore; done(): Promise<void> }> }[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'anju-nights-'));
      const store = new SqliteTelemetryStore({ dataDir: dir });
      return {
        store,
        done: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'InfluxDB (real influxd)',
    open: async () => {
      const store = new InfluxTelemetryStore({
        url: sharedInfluxdUrl(),
        database: `nights_${process.pid}_${++nightsDatabases}`,
      });
      return { store, done: () => store.close() };
    },
  },
];

describe.each(BACKENDS)('activity and nights from the room sensors, $name', (backend) => {
  let trends: Trend[];
  let done: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await backend.open();
    done = opened.done;
    await opened.store.write(points);
    trends = await residentTrends(opened.store, {
      residentId: 'r1',
      days: 30,
      timeZone: ZONE,
      now: NOW,
      home: HOME,
    });
  }, 120_000);
  afterAll(async () => {
    await done?.();
  });
  const series = (name: Trend['series']) => trends.find((t) => t.series === name)!;

  it('counts motion events and reports per local day', () => {
    const expected = Array.from({ length: 30 }, (_, i) => {
      const d = firstShown + i;
      return written.filter((w) => w.how !== 'door' && Math.floor((w.ts - FIRST) / DAY) === d).length;
    });
    expect(series('motionEvents').days.map((x) => x.value)).toEqual(expected);
    expect(series('motionEvents').days[0]!.day).toBe(isoDay(firstShown));
  });

  it('measures time in bed minute by minute from the last room seen, in the sleep window', () => {
    const expected = Array.from({ length: 30 }, (_, i) => {
      const d = firstShown + i;
      const start = FIRST + d * DAY + SLEEP.from * MIN;
      const end = FIRST + (d + 1) * DAY + SLEEP.to * MIN;
      if (end > NOW) return null;
      let minutes = 0;
      for (let t = start; t < end; t += MIN) {
        const last = written.filter((w) => w.ts <= t).at(-1);
        if (last && ROOM_OF.get(last.deviceId) === 'bedroom') minutes++;
      }
      return Math.round((minutes / 60) * 100) / 100;
    });
    const got = series('nightInBedH').days.map((x) => x.value);
    expect(got).toEqual(expected);
    expect(got.at(-1)).toBeNull(); // tonight is still to come
    expect(Math.min(...(got.filter((h) => h !== null) as number[]))).toBeGreaterThan(4);
  });

  it('counts the bathroom visits written in each night, not the triggers', () => {
    const expected = Array.from({ length: 30 }, (_, i) => {
      const d = firstShown + i;
      return i === 29 ? null : (visitsWritten.get(d) ?? 0);
    });
    expect(series('nightBathroomVisits').days.map((x) => x.value)).toEqual(expected);
  });

  it('counts front-door events at night, and not the bathroom door', () => {
    const expected = Array.from({ length: 30 }, (_, i) =>
      written.some((w) => w.deviceId === 'e-door' && dayOfNight(w.ts, HOME.nightDoor) === firstShown + i)
        ? 1
        : 0,
    );
    expect(series('nightDoorOpenings').days.map((x) => x.value)).toEqual(expected);
  });

  it('marks the restless last week against the earlier weeks', () => {
    expect(series('nightBathroomVisits').weeks.map((w) => w.departure)).toEqual([null, null, null, 'higher']);
  });
});
