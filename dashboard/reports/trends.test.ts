// A resident's trends from a real SQLite telemetry store holding 90 days of readings: a fall in steps
// over the last two weeks and new night-time door openings are marked against the resident's own earlier
// weeks; a steady pulse and water use are not; each reading is one store query.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.ts';
import type { Point, TelemetryQuery } from '../../ingest/store/types.ts';
import { residentTrends, type Trend } from './trends.ts';

const ZONE = 'Asia/Shanghai';
const NOW = Date.parse('2026-11-30T20:00:00+08:00');
const FIRST = Date.parse('2026-09-02T00:00:00+08:00'); // 90 local days end on 11-30
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dir: string;
let store: SqliteTelemetryStore;
let trends: Trend[];
const fields: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'anju-trends-'));
  store = new SqliteTelemetryStore({ dataDir: dir });
  const points: Point[] = [];
  let seq = 0;
  const tags = (deviceId: string) => ({ deviceId, residentId: 'r1' });
  for (let d = 0; d < 90; d++) {
    const midnight = FIRST + d * DAY;
    const declining = d >= 76; // the last two weeks
    const total = declining ? 1500 : 4000 + ((d * 37) % 300);
    for (let h = 0; h < 24; h++) {
      const ts = midnight + h * HOUR + 60_000;
      if (ts > NOW) break;
      points.push({
        measurement: 'wearable',
        tags: tags('w1'),
        fields: { steps: Math.round((total * h) / 23), heartRate: h < 6 ? 60 + (d % 3) : 75 },
        ts,
        seq: seq++,
      });
      points.push({
        measurement: 'water',
        tags: tags('m1'),
        fields: { litres: 1000 + d * 150 + h },
        ts,
        seq: seq++,
      });
    }
    points.push({
      measurement: 'env',
      tags: tags('e1'),
      fields: { door: 'open' },
      ts: midnight + 9 * HOUR,
      seq: seq++,
    });
    if (d >= 83)
      points.push({
        measurement: 'env',
        tags: tags('e1'),
        fields: { door: 'open' },
        ts: midnight + 23 * HOUR,
        seq: seq++,
      });
  }
  await store.write(points);
  const counting = {
    query: (q: TelemetryQuery) => {
      fields.push(q.field);
      return store.query(q);
    },
  };
  trends = await residentTrends(counting, { residentId: 'r1', days: 90, timeZone: ZONE, now: NOW });
}, 60_000);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const series = (name: Trend['series']) => trends.find((t) => t.series === name)!;

describe('resident trends', () => {
  it('asks the store once per reading', () => {
    expect(fields.sort()).toEqual(['door', 'heartRate', 'litres', 'steps']);
  });

  it('gives each local day its value', () => {
    const steps = series('steps');
    expect(steps.days).toHaveLength(90);
    expect(steps.days[0]).toEqual({ day: '2026-09-02', value: 4000 });
    expect(steps.days.at(-1)).toEqual({ day: '2026-11-30', value: Math.round((1500 * 19) / 23) });
    expect(series('restingHeartRate').days[1]!.value).toBe(61);
    expect(series('waterLitres').days[5]!.value).toBe(150);
    expect(series('nightDoorOpenings').days.at(-2)!.value).toBe(1); // 23:00 on the 29th
    expect(series('nightDoorOpenings').days.at(-1)!.value).toBe(0); // tonight's is still to come
  });

  it("marks the weeks that depart from the resident's own earlier weeks, and only those", () => {
    const marked = (name: Trend['series']) =>
      series(name)
        .weeks.filter((w) => w.departure)
        .map((w) => w.departure);
    expect(marked('steps')).toEqual(['lower', 'lower']);
    expect(marked('nightDoorOpenings')).toEqual(['higher']);
    expect(marked('restingHeartRate')).toEqual([]);
    expect(marked('waterLitres')).toEqual([]);
    expect(series('steps').weeks).toHaveLength(12);
  });
});
