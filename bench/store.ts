// node --import tsx bench/store.ts [-- --points 100000 --batch 1000 --devices 100 --rounds 3 --json]
//
// Write throughput of each telemetry store backend: the embedded SQLite file and a real influxd (started
// here on a free loopback port with a temporary directory, as the tests do). Points are wearable readings
// with six fields, spread over devices one minute apart, written in batches like the store writer does.
// Each round writes fresh points into a fresh store; the best and the median round are reported.
// `influxdb-v2` writes through @influxdata/influxdb-client to the local v2 contract server
// (test/influx2-contract.ts), which gunzips each body and forwards it to the same influxd: it measures the
// client, gzip and the extra hop, not an InfluxDB 2.x server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InfluxTelemetryStore } from '../ingest/store/influx.ts';
import { Influx2TelemetryStore } from '../ingest/store/influx2.ts';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.ts';
import type { Point, TelemetryStore } from '../ingest/store/types.ts';
import { startInfluxV2Contract } from '../test/influx2-contract.ts';
import { startInfluxd } from '../test/influxd.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'node --import tsx bench/store.ts -- [--points N] [--batch N] [--devices N] [--rounds N] [--json]',
  {
    points: 100000,
    batch: 1000,
    devices: 100,
    rounds: 3,
  },
);
const { points: totalPoints, batch: batchSize, devices, rounds } = args;

function makePoints(): Point[] {
  // Recent enough for any retention, one reading per device per minute, ending now.
  const start = Date.now() - Math.ceil(totalPoints / devices) * 60_000;
  return Array.from({ length: totalPoints }, (_, i) => {
    const device = i % devices;
    return {
      measurement: 'wearable',
      tags: { deviceId: `wb-${device}`, residentId: `res-${device}`, homeId: `home-${device}` },
      fields: {
        heartRate: 60 + (i % 40),
        spo2: 95 + (i % 5),
        skinTemp: 33 + (i % 10) / 10,
        steps: i,
        worn: true,
        battery: 80,
      },
      ts: start + Math.floor(i / devices) * 60_000,
      seq: i,
    };
  });
}

async function timeWrites(store: TelemetryStore, points: Point[]): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < points.length; i += batchSize) await store.write(points.slice(i, i + batchSize));
  return points.length / ((performance.now() - started) / 1000);
}

async function measure(name: string, open: (round: number) => Promise<TelemetryStore>) {
  const rates: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const store = await open(round);
    rates.push(await timeWrites(store, makePoints()));
    await store.close();
    log(`${name} round ${round + 1}: ${Math.round(rates.at(-1)!)} points/s`);
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    backend: name,
    best: Math.round(sorted.at(-1)!),
    median: Math.round(sorted[Math.floor(sorted.length / 2)]!),
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'anju-bench-store-'));
const influxd = await startInfluxd();
const contract = await startInfluxV2Contract({ influxdUrl: influxd.url });
try {
  const results = [
    await measure(
      'sqlite',
      async (round) => new SqliteTelemetryStore({ dataDir: path.join(dir, `r${round}`) }),
    ),
    await measure(
      'influxdb',
      async (round) => new InfluxTelemetryStore({ url: influxd.url, database: `bench_${round}`, batchSize }),
    ),
    await measure('influxdb-v2', async (round) => {
      const bucket = `bench_v2_${round}`;
      await contract.createBucket(bucket);
      const { url, org, token } = contract;
      return new Influx2TelemetryStore({ url, org, bucket, token, batchSize });
    }),
  ];
  if (args.json) {
    console.log(
      JSON.stringify({ points: totalPoints, batch: batchSize, devices, fieldsPerPoint: 6, results }),
    );
  } else {
    console.log(
      `${totalPoints} points x 6 fields, batches of ${batchSize}, ${devices} devices, ${rounds} rounds`,
    );
    for (const r of results)
      console.log(`${r.backend.padEnd(12)} best ${r.best} points/s, median ${r.median} points/s`);
  }
} finally {
  await contract.close();
  await influxd.destroy();
  rmSync(dir, { recursive: true, force: true });
}
