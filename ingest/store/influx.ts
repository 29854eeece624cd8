// The InfluxDB telemetry store, over the v1 HTTP API that InfluxDB 1.x serves natively and 2.x and 3.x
// serve for compatibility. Queries, setup and health go through the `influx` package; writes are our own
// line protocol (see line-protocol.ts for why) POSTed to /write with ms precision.
//
// A field can live in several measurements (`battery` comes with telemetry and with heartbeats). InfluxQL
// keeps measurements apart in every result, so a query reads all of them and merges here: raw readings by
// time, mean from per-measurement sums and counts, min and max directly, and `last` by the true time of
// each candidate, which a second small query fetches for the windows that more than one measurement fills.
import { InfluxDB, type IPoolOptions } from 'influx';
import { z } from 'zod';
import { admitPoints, settleWrite } from './admit.ts';
import { msDuration, msTime, quoteIdentifier, quoteString } from './influxql.ts';
import { decodeName, encodeName, toLine } from './line-protocol.ts';
import {
  MEASUREMENTS,
  SeriesSelector,
  TelemetryQuery,
  type FieldValue,
  type LatestValue,
  type Aggregate,
  type Point,
  type RefusedPoint,
  type StoreHealth,
  type TelemetryStore,
  type TimeValue,
} from './types.ts';

export const InfluxStoreOptions = z.strictObject({
  /** Base URL of the v1 HTTP API, e.g. http://127.0.0.1:8086 */
  url: z.url({ protocol: /^https?$/ }),
  database: z.string().min(1).default('anju'),
  /** Used for every read and write. When Anju manages the database it defaults to `anju`. */
  retentionPolicy: z.string().min(1).optional(),
  /** 2.x: a v1 authorization's user name, with its password or an API token; 3.x: any name and a token. */
  username: z.string().optional(),
  password: z.string().optional(),
  /** An API token sent as `Authorization: Token ...` (2.x, 3.x, Cloud) instead of a user name and password. */
  token: z.string().min(1).optional(),
  /** Points older than this are refused; the retention policy deletes them. Unset: kept forever. */
  retentionMs: z.number().int().min(3_600_000).optional(),
  /**
   * Create the database and its retention policy. `auto`: only if /ping reports InfluxDB 1.x, since 2.x
   * and 3.x refuse database management over the v1 API (an administrator creates the bucket/database).
   */
  manageDatabase: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  batchSize: z.number().int().min(1).max(100_000).default(5_000),
  timeoutMs: z.number().int().min(1).default(10_000),
});
export type InfluxStoreOptions = z.input<typeof InfluxStoreOptions>;

const DEFAULT_RETENTION_POLICY = 'anju';

type Backoff = NonNullable<IPoolOptions['backoff']>;
// The package takes a failed host out of service for up to 10 s, which would only delay the first query
// after an outage: with a single host, the caller's own retries are the better judge.
const NO_BACKOFF: Backoff = { getDelay: () => 0, next: () => NO_BACKOFF, reset: () => NO_BACKOFF };
// Statements per HTTP request when one query is sent per field or per window; keeps GET URLs short.
const STATEMENTS_PER_REQUEST = 20;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Where reads and writes go, settled once the server has been asked what it is. */
interface Target {
  retentionPolicy: string | undefined;
  writeUrl: string;
}

interface RawSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
interface RawResult {
  statement_id?: number;
  series?: RawSeries[];
  error?: string;
}

/** The shard group duration InfluxDB itself would choose for a retention policy of this length. */
function shardDurationMs(retentionMs: number | undefined): number {
  if (retentionMs === undefined || retentionMs > 180 * DAY_MS) return 7 * DAY_MS;
  return retentionMs < 2 * DAY_MS ? HOUR_MS : DAY_MS;
}

export class InfluxTelemetryStore implements TelemetryStore {
  readonly backend = 'influxdb' as const;
  private readonly options: z.infer<typeof InfluxStoreOptions>;
  private readonly influx: InfluxDB;
  private readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private ready: Promise<Target> | undefined;
  private closed = false;

  constructor(options: InfluxStoreOptions) {
    this.options = InfluxStoreOptions.parse(options);
    const url = new URL(this.options.url);
    const basePath = url.pathname.replace(/\/$/, '');
    const { token } = this.options;
    this.influx = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      path: basePath,
      database: this.options.database,
      ...(this.options.username !== undefined ? { username: this.options.username } : {}),
      ...(this.options.password !== undefined ? { password: this.options.password } : {}),
      // The package sends Basic root:root unless the user name is not a string; with a token, send only it.
      ...(token !== undefined
        ? { username: null as unknown as string, options: { headers: { Authorization: `Token ${token}` } } }
        : {}),
      // The writer above retries; the package's own retries would only hide an outage for longer.
      pool: { maxRetries: 0, requestTimeout: this.options.timeoutMs, backoff: NO_BACKOFF },
    });
    this.baseUrl = `${url.origin}${basePath}`;
    if (token !== undefined) {
      this.authorization = `Token ${token}`;
    } else if (this.options.username !== undefined || this.options.password !== undefined) {
      const credentials = `${this.options.username ?? ''}:${this.options.password ?? ''}`;
      this.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
  }

  /** Settles the target and creates the database once; retried on the next call if the server was away. */
  private ensureReady(): Promise<Target> {
    if (this.closed) return Promise.reject(new Error('telemetry store is closed'));
    this.ready ??= this.prepare().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async prepare(): Promise<Target> {
    const { manageDatabase, database } = this.options;
    const manage = manageDatabase === 'auto' ? await this.serverIsVersion1() : manageDatabase;
    const retentionPolicy = manage
      ? (this.options.retentionPolicy ?? DEFAULT_RETENTION_POLICY)
      : this.options.retentionPolicy;
    if (manage) await this.createDatabase(retentionPolicy!);
    const params = new URLSearchParams({ db: database, precision: 'ms' });
    if (retentionPolicy !== undefined) params.set('rp', retentionPolicy);
    return { retentionPolicy, writeUrl: `${this.baseUrl}/write?${params}` };
  }

  private async serverIsVersion1(): Promise<boolean> {
    const [host] = await this.influx.ping(this.options.timeoutMs);
    if (!host?.online) throw new Error(`InfluxDB at ${this.options.url} does not answer /ping`);
    // 1.x answers e.g. "1.8.10"; 2.x "v2.7.4"; 3.x "3.x.y".
    return /^1\./.test(host.version ?? '');
  }

  private async createDatabase(retentionPolicy: string): Promise<void> {
    const db = quoteIdentifier(this.options.database);
    const rp = quoteIdentifier(retentionPolicy);
    const { retentionMs } = this.options;
    const duration = `DURATION ${retentionMs === undefined ? 'INF' : msDuration(retentionMs)}`;
    const shards = `SHARD DURATION ${msDuration(shardDurationMs(retentionMs))}`;
    await this.run([`CREATE DATABASE ${db}`], 'POST');
    const [policies] = await this.run([`SHOW RETENTION POLICIES ON ${db}`], 'GET');
    const exists = (policies?.series?.[0]?.values ?? []).some((row) => row[0] === retentionPolicy);
    await this.run(
      [
        exists
          ? `ALTER RETENTION POLICY ${rp} ON ${db} ${duration} ${shards} DEFAULT`
          : `CREATE RETENTION POLICY ${rp} ON ${db} ${duration} REPLICATION 1 ${shards} DEFAULT`,
      ],
      'POST',
    );
  }

  /** Runs statements in one request; throws on the first statement that failed. */
  private async run(statements: string[], method: 'GET' | 'POST'): Promise<RawResult[]> {
    const response = (await this.influx.queryRaw(statements.join(';\n'), {
      database: this.options.database,
      precision: 'ms',
      method,
    })) as { results?: RawResult[]; error?: string };
    if (response.error) throw new Error(`InfluxDB: ${response.error}`);
    const results = response.results ?? [];
    const failed = results.find((r) => r.error);
    if (failed) throw new Error(`InfluxDB: ${failed.error}`);
    return results;
  }

  private async runInChunks(statements: string[]): Promise<RawResult[]> {
    const results: RawResult[] = [];
    for (let i = 0; i < statements.length; i += STATEMENTS_PER_REQUEST) {
      results.push(...(await this.run(statements.slice(i, i + STATEMENTS_PER_REQUEST), 'GET')));
    }
    return results;
  }

  private from(target: Target, measurements: readonly string[]): string {
    const rp = target.retentionPolicy === undefined ? '' : `${quoteIdentifier(target.retentionPolicy)}.`;
    return measurements.map((m) => `${rp}${quoteIdentifier(m)}`).join(', ');
  }

  private subjectCondition(selector: {
    deviceId?: string | undefined;
    residentId?: string | undefined;
  }): string {
    const [tag, value] =
      selector.deviceId !== undefined
        ? ['deviceId', selector.deviceId]
        : ['residentId', selector.residentId!];
    return `${quoteIdentifier(tag)}::tag = ${quoteString(encodeName(value))}`;
  }

  // ------------------------------------------------------------------------------------------------ write

  async write(points: readonly Point[]): Promise<void> {
    const { retentionMs, batchSize } = this.options;
    const { admitted, refused } = admitPoints(
      points,
      retentionMs === undefined ? undefined : Date.now() - retentionMs,
    );
    const lines = admitted.map(({ index, point }) => ({ index, line: toLine(point) }));
    let stored = 0;
    if (lines.length > 0) {
      const { writeUrl } = await this.ensureReady();
      for (let i = 0; i < lines.length; i += batchSize) {
        stored += await this.writeOrBisect(writeUrl, lines.slice(i, i + batchSize), refused);
      }
    }
    settleWrite(refused, stored);
  }

  /**
   * Writes lines; when InfluxDB refuses some (400: type conflict, beyond retention, unparsable), it has
   * stored the rest, but does not say which it refused. Halving and rewriting (idempotent) finds them in
   * O(refused x log n) requests. Returns how many lines were stored.
   */
  private async writeOrBisect(
    writeUrl: string,
    lines: { index: number; line: string }[],
    refused: RefusedPoint[],
  ): Promise<number> {
    const response = await fetch(writeUrl, {
      method: 'POST',
      body: lines.map((l) => l.line).join('\n'),
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        ...(this.authorization ? { authorization: this.authorization } : {}),
      },
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const body = await response.text();
    if (response.ok) return lines.length;
    if (response.status === 400 || response.status === 413) {
      if (lines.length === 1) {
        refused.push({ index: lines[0]!.index, reason: serverError(body) });
        return 0;
      }
      const half = Math.ceil(lines.length / 2);
      return (
        (await this.writeOrBisect(writeUrl, lines.slice(0, half), refused)) +
        (await this.writeOrBisect(writeUrl, lines.slice(half), refused))
      );
    }
    // A dropped database must be created again once the server is back.
    if (response.status === 404) this.ready = undefined;
    throw new Error(`InfluxDB write failed: ${response.status} ${serverError(body)}`);
  }

  // ------------------------------------------------------------------------------------------------ query

  async query(input: TelemetryQuery): Promise<TimeValue[]> {
    const q = TelemetryQuery.parse(input);
    const target = await this.ensureReady();
    const field = quoteIdentifier(encodeName(q.field));
    const where = `${this.subjectCondition(q)} AND time >= ${msTime(q.from)} AND time < ${msTime(q.to)}`;
    const desc = q.order === 'desc';
    const tail = `ORDER BY time ${desc ? 'DESC' : 'ASC'}${q.limit === undefined ? '' : ` LIMIT ${q.limit}`}`;
    const from = this.from(target, MEASUREMENTS);
    const byTime = (a: { ts: number }, b: { ts: number }) => (desc ? b.ts - a.ts : a.ts - b.ts);
    const limited = <T>(rows: T[]) => (q.limit === undefined ? rows : rows.slice(0, q.limit));

    if (q.every === undefined) {
      const [result] = await this.run([`SELECT ${field}::field FROM ${from} WHERE ${where} ${tail}`], 'GET');
      const rows = seriesOf(result).flatMap((s) =>
        s.values.map((v) => ({ ts: v[0] as number, value: v[1] as FieldValue })),
      );
      return limited(rows.sort(byTime));
    }

    const fn = q.fn ?? 'mean';
    const select = {
      mean: `sum(${field}::float), count(${field}::float)`,
      min: `min(${field}::float)`,
      max: `max(${field}::float)`,
      last: `last(${field}::field)`,
    }[fn];
    const groupBy = `GROUP BY time(${msDuration(q.every)}) fill(none) ${tail}`;
    const [result] = await this.run([`SELECT ${select} FROM ${from} WHERE ${where} ${groupBy}`], 'GET');
    const windows = new Map<number, WindowPart[]>();
    for (const series of seriesOf(result)) {
      for (const [ts, value, count] of series.values as [number, FieldValue, number | undefined][]) {
        const parts = windows.get(ts) ?? [];
        parts.push({ measurement: series.name, value, count: count ?? 0 });
        windows.set(ts, parts);
      }
    }
    if (fn === 'last') await this.resolveLastAcrossMeasurements(target, q, field, windows);
    const rows = [...windows.entries()].map(([ts, parts]) => ({ ts, value: combine(fn, parts) }));
    return limited(rows.sort(byTime));
  }

  /** For windows filled by several measurements, asks which one holds the latest reading; keeps only it. */
  private async resolveLastAcrossMeasurements(
    target: Target,
    q: TelemetryQuery,
    field: string,
    windows: Map<number, WindowPart[]>,
  ): Promise<void> {
    const shared = [...windows.entries()].filter(([, parts]) => parts.length > 1);
    if (shared.length === 0) return;
    const statements = shared.map(([start, parts]) => {
      const names = parts.map((p) => p.measurement);
      const measurements = this.from(target, names);
      const from = msTime(Math.max(start, q.from));
      const to = msTime(Math.min(start + q.every!, q.to));
      const where = `${this.subjectCondition(q)} AND time >= ${from} AND time < ${to}`;
      return `SELECT last(${field}::field) FROM ${measurements} WHERE ${where}`;
    });
    const results = await this.runInChunks(statements);
    shared.forEach(([start, parts], i) => {
      const newest = newestOf(seriesOf(results[i]));
      if (newest) windows.set(start, [{ measurement: parts[0]!.measurement, value: newest.value, count: 1 }]);
    });
  }

  async latest(input: SeriesSelector): Promise<LatestValue[]> {
    const selector = SeriesSelector.parse(input);
    const found = await this.latestWhere(this.subjectCondition(selector));
    return found.get(undefined) ?? [];
  }

  async latestByDevice(deviceIds: readonly string[]): Promise<Map<string, LatestValue[]>> {
    const ids = z.array(z.string()).parse(deviceIds);
    const byDevice = new Map<string, LatestValue[]>();
    // A hundred devices a statement keeps the query string well within what a GET carries.
    for (let i = 0; i < ids.length; i += 100) {
      const condition = ids
        .slice(i, i + 100)
        .map((id) => this.subjectCondition({ deviceId: id }))
        .join(' OR ');
      for (const [id, values] of await this.latestWhere(`(${condition})`, 'deviceId'))
        byDevice.set(id!, values);
    }
    return byDevice;
  }

  /** The newest value of every field where `condition` holds, per value of the tag `by` (or in all). */
  private async latestWhere(
    condition: string,
    by?: 'deviceId',
  ): Promise<Map<string | undefined, LatestValue[]>> {
    const target = await this.ensureReady();
    const [keys] = await this.run([`SHOW FIELD KEYS FROM ${this.from(target, MEASUREMENTS)}`], 'GET');
    const measurementsByField = new Map<string, string[]>();
    for (const series of seriesOf(keys)) {
      for (const [fieldKey] of series.values as [string][]) {
        if (fieldKey === 'seq') continue;
        measurementsByField.set(fieldKey, [...(measurementsByField.get(fieldKey) ?? []), series.name]);
      }
    }
    const fields = [...measurementsByField.keys()];
    // One selector per statement: with several, InfluxDB reports time 0 instead of each value's time.
    const statements = fields.map(
      (f) =>
        `SELECT last(${quoteIdentifier(f)}::field) FROM ${this.from(target, measurementsByField.get(f)!)} ` +
        `WHERE ${condition}${by ? ` GROUP BY ${quoteIdentifier(by)}` : ''}`,
    );
    const results = await this.runInChunks(statements);
    const latest = new Map<string | undefined, LatestValue[]>();
    fields.forEach((f, i) => {
      const groups = new Map<string | undefined, RawSeries[]>();
      for (const series of seriesOf(results[i])) {
        const key = by && series.tags?.[by] !== undefined ? decodeName(series.tags[by]) : undefined;
        groups.set(key, [...(groups.get(key) ?? []), series]);
      }
      for (const [key, series] of groups) {
        const newest = newestOf(series);
        if (newest) latest.set(key, [...(latest.get(key) ?? []), { field: decodeName(f), ...newest }]);
      }
    });
    for (const values of latest.values())
      values.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
    return latest;
  }

  async applyRetention(olderThan: number): Promise<void> {
    await this.ensureReady();
    // DELETE cannot name a retention policy, so this applies to every policy of Anju's database.
    const measurements = `/^(${MEASUREMENTS.join('|')})$/`;
    await this.run([`DELETE FROM ${measurements} WHERE time < ${msTime(olderThan)}`], 'POST');
  }

  async health(): Promise<StoreHealth> {
    if (this.closed) return { ok: false, backend: this.backend, error: 'telemetry store is closed' };
    const [host] = await this.influx.ping(this.options.timeoutMs);
    if (host?.online) return { ok: true, backend: this.backend, latencyMs: host.rtt };
    const status = host?.res ? ` (HTTP ${host.res.statusCode})` : '';
    return {
      ok: false,
      backend: this.backend,
      error: `InfluxDB at ${this.options.url} does not answer /ping${status}`,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

interface WindowPart {
  measurement: string;
  value: FieldValue;
  /** Only for mean, where `value` is the sum. */
  count: number;
}

/** One window's value from the parts that each measurement contributed. */
function combine(fn: Aggregate, parts: WindowPart[]): FieldValue {
  const numbers = parts.map((p) => p.value as number);
  switch (fn) {
    case 'mean':
      return numbers.reduce((a, b) => a + b, 0) / parts.reduce((a, p) => a + p.count, 0);
    case 'min':
      return Math.min(...numbers);
    case 'max':
      return Math.max(...numbers);
    case 'last':
      return parts[0]!.value;
  }
}

function seriesOf(result: RawResult | undefined): RawSeries[] {
  return result?.series ?? [];
}

/** Of one `SELECT last(...)` over several measurements: the value with the latest time. */
function newestOf(series: RawSeries[]): { ts: number; value: FieldValue } | undefined {
  let newest: { ts: number; value: FieldValue } | undefined;
  for (const s of series) {
    const row = s.values[0];
    if (row && (newest === undefined || (row[0] as number) > newest.ts)) {
      newest = { ts: row[0] as number, value: row[1] as FieldValue };
    }
  }
  return newest;
}

function serverError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: a proxy or another server answered; show what it said.
  }
  return body.trim().slice(0, 500);
}
