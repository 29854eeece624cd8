// Which telemetry store `anju serve` opens from its settings, and that the v2 set-up it documents works.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startInfluxV2ContractAroundTests, type InfluxV2Contract } from '../test/influx2-contract.ts';
import { sharedInfluxdUrl } from '../test/influxd.ts';
import { Influx2TelemetryStore } from '../ingest/store/influx2.ts';
import { InfluxTelemetryStore } from '../ingest/store/influx.ts';
import { ServeConfig } from './config.ts';
import { openTelemetryStore } from './serve.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const silent = pino({ level: 'silent' });

const influxd = { url: sharedInfluxdUrl() };
let contract: InfluxV2Contract;
startInfluxV2ContractAroundTests({ influxdUrl: influxd.url }, (started) => (contract = started));

describe('the telemetry store anju serve opens', () => {
  it('writes through the v2 API with the org, bucket and token it was given', async () => {
    await contract.createBucket('serve_v2');
    const config = ServeConfig.parse({
      dataDir: '/unused',
      influxUrl: contract.url,
      influxOrg: contract.org,
      influxBucket: 'serve_v2',
      influxToken: contract.token,
    });
    const store = openTelemetryStore(config, silent);
    try {
      expect(store).toBeInstanceOf(Influx2TelemetryStore);
      const ts = Date.now() - 60_000;
      await store.write([
        { measurement: 'env', tags: { deviceId: 'env-1' }, fields: { temperature: 21.5 }, ts, seq: 1 },
      ]);
      expect(contract.writes.at(-1)).toMatchObject({ status: 204, authorization: `Token ${contract.token}` });
      expect(await store.latest({ deviceId: 'env-1' })).toEqual([{ field: 'temperature', ts, value: 21.5 }]);
    } finally {
      await store.close();
    }
  });

  it('keeps the v1 API when no org and bucket are given', () => {
    const config = ServeConfig.parse({ dataDir: '/unused', influxUrl: influxd.url });
    expect(openTelemetryStore(config, silent)).toBeInstanceOf(InfluxTelemetryStore);
  });

  it('refuses half a v2 set-up rather than falling back to the v1 API', () => {
    const base = { dataDir: '/unused', influxUrl: 'http://127.0.0.1:8086' };
    expect(() => ServeConfig.parse({ ...base, influxOrg: 'care' })).toThrow(
      /--influx-org and --influx-bucket/,
    );
    expect(() => ServeConfig.parse({ ...base, influxBucket: 'anju' })).toThrow(
      /--influx-org and --influx-bucket/,
    );
    expect(() => ServeConfig.parse({ dataDir: '/unused', influxOrg: 'care', influxBucket: 'anju' })).toThrow(
      /needs --influx-url/,
    );
  });

  it('shows the 2.x, 3.x and Cloud set-up in `anju serve --help`', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      path.join(ROOT, 'bin/anju.js'),
      'serve',
      '--help',
    ]);
    expect(stdout).toMatch(/--influx-org <org>.*\n?.*ANJU_INFLUX_ORG/);
    expect(stdout).toMatch(/ANJU_INFLUX_BUCKET/);
    expect(stdout).toMatch(/ANJU_INFLUX_TOKEN/);
    const setUp = stdout.split('\n').filter((l) => /--influx-org \S+ --influx-bucket \S+/.test(l));
    expect(setUp.map((l) => l.match(/# (\S+)$/)?.[1])).toEqual(['2.x', '3.x', 'Cloud']);
  });
});
