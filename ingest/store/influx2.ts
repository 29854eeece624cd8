// The telemetry store for InfluxDB 2.x, 3.x and Cloud: an organization, a bucket and an API token.
// Writes go through the v2 write API with @influxdata/influxdb-client (influx2-write.ts); reads go
// through the v1-compatible InfluxQL /query endpoint that 1.8+, 2.x (with a DBRP mapping, created here
// when missing) and 3.x serve, using the InfluxDB 1.x store's query code unchanged.
import { InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { z } from 'zod';
import { admitPoints, settleWrite } from './admit.ts';
import { InfluxTelemetryStore } from './influx.ts';
import { dbrpOf, ensureDbrp } from './influx2-dbrp.ts';
import { V2LineWriter } from './influx2-write.ts';
import { toLine } from './line-protocol.ts';
import {
  MEASUREMENTS,
  type LatestValue,
  type Point,
  type SeriesSelector,
  type StoreHealth,
  type TelemetryQuery,
  type TelemetryStore,
  type TimeValue,
} from './types.ts';

export const Influx2StoreOptions = z.strictObject({
  /** Base URL, e.g. http://127.0.0.1:8086 (2.x), http://127.0.0.1:8181 (3.x), a Cloud region URL. */
  url: z.url({ protocol: /^https?$/ }),
  /** Organization name (3.x ignores it; 1.8 takes any value, e.g. `-`). */
  org: z.string().min(1),
  /** Bucket (2.x, Cloud), database (3.x), or `database/retention-policy` (1.8). */
  bucket: z.string().min(1),
  /** API token (1.8: `username:password`). Sent as `Authorization: Token ...`; never logged. */
  token: z.string().min(1).optional(),
  /** Points older than this are refused; the bucket's retention period deletes them. */
  retentionMs: z.number().int().min(3_600_000).optional(),
  /** Lines per write request; a 413 halves a request further. */
  batchSize: z.number().int().min(1).max(100_000).default(5_000),
  timeoutMs: z.number().int().min(1).default(10_000),
  /** How long one write may wait for a server that answered 429 or 503 before it reports failure. */
  maxRetryWaitMs: z.number().int().min(0).default(30_000),
  /** Create the DBRP mapping that InfluxQL reads need on 2.x and Cloud when it is missing. */
  manageDbrp: z.boolean().default(true),
});
export type Influx2StoreOptions = z.input<typeof Influx2StoreOptions>;

export class Influx2TelemetryStore implements TelemetryStore {
  readonly backend = 'influxdb' as const;
  private readonly options: z.infer<typeof Influx2StoreOptions>;
  private readonly writer: V2LineWriter;
  private readonly reads: InfluxTelemetryStore;
  private readonly client: InfluxDB;
  private readonly closing = new AbortController();
  private readable: Promise<void> | undefined;

  constructor(
    options: Influx2StoreOptions,
    private readonly logger?: Logger,
  ) {
    this.options = Influx2StoreOptions.parse(options);
    const { url, token, org, bucket, timeoutMs, maxRetryWaitMs } = this.options;
    // The client logs each failed request to the console itself; the store rejects with the error instead,
    // and the store writer logs it once. Its messages carry no token.
    setLogger({
      error: (message, err) => logger?.debug({ err }, message),
      warn: (message, err) => logger?.debug({ err }, message),
    });
    this.writer = new V2LineWriter({
      url,
      token,
      org,
      bucket,
      timeoutMs,
      maxRetryWaitMs,
      signal: this.closing.signal,
    });
    this.client = new InfluxDB({ url, timeout: timeoutMs, ...(token !== undefined ? { token } : {}) });
    const { database, retentionPolicy } = dbrpOf(bucket);
    this.reads = new InfluxTelemetryStore({
      url,
      database,
      ...(retentionPolicy !== undefined ? { retentionPolicy } : {}),
      ...(token !== undefined ? { token } : {}),
      manageDatabase: false,
      timeoutMs,
    });
  }

  async write(points: readonly Point[]): Promise<void> {
    if (this.closing.signal.aborted) throw new Error('telemetry store is closed');
    const { retentionMs, batchSize } = this.options;
    const { admitted, refused } = admitPoints(
      points,
      retentionMs === undefined ? undefined : Date.now() - retentionMs,
    );
    const lines = admitted.map(({ index, point }) => ({ index, line: toLine(point) }));
    let stored = 0;
    for (let i = 0; i < lines.length; i += batchSize) {
      stored += await this.writer.write(lines.slice(i, i + batchSize), refused);
    }
    settleWrite(refused, stored);
  }

  /** Makes sure InfluxQL can read the bucket; once per store, again after a failure. */
  private readyForReads(): Promise<void> {
    if (this.closing.signal.aborted) return Promise.reject(new Error('telemetry store is closed'));
    if (!this.options.manageDbrp) return Promise.resolve();
    this.readable ??= this.prepareReads().catch((err: unknown) => {
      this.readable = undefined;
      throw err;
    });
    return this.readable;
  }

  private async prepareReads(): Promise<void> {
    const { org, bucket } = this.options;
    const outcome = await ensureDbrp(this.client.transport, org, bucket);
    if (outcome === 'created') {
      this.logger?.info({ org, bucket, ...dbrpOf(bucket) }, 'created the DBRP mapping InfluxQL reads need');
    } else if (outcome === 'not-permitted') {
      this.logger?.warn(
        { org, bucket },
        'the token may not list DBRP mappings; reads work only if the bucket is mapped already',
      );
    }
  }

  async query(query: TelemetryQuery): Promise<TimeValue[]> {
    await this.readyForReads();
    return this.reads.query(query);
  }

  async latest(selector: SeriesSelector): Promise<LatestValue[]> {
    await this.readyForReads();
    return this.reads.latest(selector);
  }

  async latestByDevice(deviceIds: readonly string[]): Promise<Map<string, LatestValue[]>> {
    await this.readyForReads();
    return this.reads.latestByDevice(deviceIds);
  }

  /** Through the v2 delete API (2.x, Cloud, 1.8); 3.x has none: set the database's retention period. */
  async applyRetention(olderThan: number): Promise<void> {
    if (this.closing.signal.aborted) throw new Error('telemetry store is closed');
    const { org, bucket } = this.options;
    // Points are whole ms: a stop 1 ns before olderThan deletes ts < olderThan whether stop is inclusive.
    const stop = `${new Date(olderThan - 1).toISOString().slice(0, -1)}999999Z`;
    const path = `/api/v2/delete?${new URLSearchParams({ org, bucket, precision: 'ms' })}`;
    // The delete predicate has no OR, so one request per measurement.
    for (const measurement of MEASUREMENTS) {
      await this.client.transport.request(
        path,
        { start: '1970-01-01T00:00:00Z', stop, predicate: `_measurement="${measurement}"` },
        { method: 'POST', headers: { 'content-type': 'application/json' } },
      );
    }
  }

  async health(): Promise<StoreHealth> {
    if (this.closing.signal.aborted)
      return { ok: false, backend: this.backend, error: 'telemetry store is closed' };
    // A server that answers /ping but refuses the token is not a working store.
    if (this.writer.authError) return { ok: false, backend: this.backend, error: this.writer.authError };
    return this.reads.health();
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('telemetry store is closed'));
    await this.reads.close();
  }
}
