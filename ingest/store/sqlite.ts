// The embedded telemetry store: one SQLite file (`<dataDir>/telemetry.db`, WAL) in the Anju process.
// One row per field value. The table is clustered on (device_id, field, ts), which is the index the
// device queries need; a partial index on (resident_id, field, ts) serves the resident queries, and a
// small `latest` table answers "latest value of every field" without scanning history.
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../../database/sqlite-file.ts';
import type { Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { admitPoints, settleWrite } from './admit.ts';
import {
  SeriesSelector,
  TelemetryQuery,
  type FieldValue,
  type LatestValue,
  type Point,
  type RefusedPoint,
  type StoreHealth,
  type TelemetryStore,
  type TimeValue,
} from './types.ts';

export const SqliteStoreOptions = z.strictObject({
  dataDir: z.string().min(1),
  /** Points older than this are refused, and deleted every `retentionCheckMs`. Unset: kept forever. */
  retentionMs: z.number().int().min(1).optional(),
  retentionCheckMs: z.number().int().min(1).default(3_600_000),
});
export type SqliteStoreOptions = z.input<typeof SqliteStoreOptions>;

export const TELEMETRY_DB_FILE = 'telemetry.db';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  measurement TEXT NOT NULL,
  device_id TEXT NOT NULL,
  resident_id TEXT,
  home_id TEXT,
  tags TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS readings (
  device_id TEXT NOT NULL,
  field TEXT NOT NULL,
  ts INTEGER NOT NULL,
  series_id INTEGER NOT NULL,
  resident_id TEXT,
  type TEXT NOT NULL,
  value ANY NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (device_id, field, ts, series_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_resident ON readings (resident_id, field, ts) WHERE resident_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS latest (
  series_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  device_id TEXT NOT NULL,
  resident_id TEXT,
  ts INTEGER NOT NULL,
  type TEXT NOT NULL,
  value ANY NOT NULL,
  PRIMARY KEY (series_id, field)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_by_device ON latest (device_id);
CREATE INDEX IF NOT EXISTS latest_by_resident ON latest (resident_id) WHERE resident_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS field_types (
  measurement TEXT NOT NULL,
  field TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY (measurement, field)
) STRICT, WITHOUT ROWID;
`;

/** How a value is stored: SQLite has no boolean, and min/max/mean must see numbers only. */
type ValueType = 'n' | 'b' | 's';
const TYPE_NAMES: Record<ValueType, string> = { n: 'number', b: 'boolean', s: 'string' };

function typeOf(value: FieldValue): ValueType {
  return typeof value === 'number' ? 'n' : typeof value === 'boolean' ? 'b' : 's';
}
function toSql(value: FieldValue): number | string {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}
function fromSql(type: string, value: number | string): FieldValue {
  return type === 'b' ? value === 1 : value;
}

interface ValueRow {
  ts: number;
  type: string;
  value: number | string;
}

interface LatestRow {
  seriesId: number;
  field: string;
  deviceId: string;
  residentId: string | null;
  ts: number;
  type: ValueType;
  value: number | string;
}

// Retention deletes in chunks so that a large purge never holds the event loop (or the writer) for long.
const RETENTION_CHUNK = 10_000;

export class SqliteTelemetryStore implements TelemetryStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly options: z.infer<typeof SqliteStoreOptions>;
  private readonly now: () => number;
  private readonly fieldTypes = new Map<string, ValueType>();
  private readonly seriesIds = new Map<string, number>();
  private readonly queries = new Map<string, Statement>();
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private retentionError: string | undefined;
  private closed = false;

  private readonly insertSeries: Statement;
  private readonly upsertReading: Statement;
  private readonly upsertLatest: Statement;
  private readonly insertFieldType: Statement;

  constructor(options: SqliteStoreOptions, now: () => number = Date.now) {
    this.options = SqliteStoreOptions.parse(options);
    this.now = now;
    mkdirSync(this.options.dataDir, { recursive: true });
    // The journal of accepted readings is the durable copy; the store can afford NORMAL (still crash-safe).
    this.db = openSqliteFile(path.join(this.options.dataDir, TELEMETRY_DB_FILE), {
      synchronous: 'NORMAL',
      schema: SCHEMA,
    });
    this.insertSeries = this.db.prepare(
      'INSERT INTO series (key, measurement, device_id, resident_id, home_id, tags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertReading = this.db.prepare(
      `INSERT INTO readings (device_id, field, ts, series_id, resident_id, type, value, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id, field, ts, series_id) DO UPDATE SET type = excluded.type, value = excluded.value, seq = excluded.seq`,
    );
    this.upsertLatest = this.db.prepare(
      `INSERT INTO latest (series_id, field, device_id, resident_id, ts, type, value) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series_id, field) DO UPDATE SET ts = excluded.ts, type = excluded.type, value = excluded.value
       WHERE excluded.ts >= latest.ts`,
    );
    this.insertFieldType = this.db.prepare(
      'INSERT INTO field_types (measurement, field, type) VALUES (?, ?, ?)',
    );
    this.loadCaches();
    if (this.options.retentionMs !== undefined) {
      const retentionMs = this.options.retentionMs;
      this.retentionTimer = setInterval(() => {
        this.applyRetention(this.now() - retentionMs).then(
          () => (this.retentionError = undefined),
          (err: Error) => (this.retentionError = `retention failed: ${err.message}`),
        );
      }, this.options.retentionCheckMs);
      this.retentionTimer.unref();
    }
  }

  private loadCaches(): void {
    this.fieldTypes.clear();
    this.seriesIds.clear();
    const types = this.db.prepare('SELECT measurement, field, type FROM field_types').all() as {
      measurement: string;
      field: string;
      type: ValueType;
    }[];
    for (const t of types) this.fieldTypes.set(fieldTypeKey(t.measurement, t.field), t.type);
    for (const s of this.db.prepare('SELECT id, key FROM series').all() as { id: number; key: string }[]) {
      this.seriesIds.set(s.key, s.id);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('telemetry store is closed');
  }

  async write(points: readonly Point[]): Promise<void> {
    this.assertOpen();
    const { admitted, refused } = admitPoints(
      points,
      this.options.retentionMs === undefined ? undefined : this.now() - this.options.retentionMs,
    );
    let stored = 0;
    const typeRefusals: RefusedPoint[] = [];
    // One transaction per batch: a reader on another connection sees a batch whole or not at all.
    const insertAll = this.db.transaction(() => {
      // The newest value per series and field of this batch; `latest` is then updated once for each.
      const newest = new Map<string, LatestRow>();
      for (const { index, point } of admitted) {
        const conflict = this.typeConflict(point);
        if (conflict) {
          typeRefusals.push({ index, reason: conflict });
          continue;
        }
        this.insertPoint(point, newest);
        stored += 1;
      }
      for (const r of newest.values()) {
        this.upsertLatest.run(r.seriesId, r.field, r.deviceId, r.residentId, r.ts, r.type, r.value);
      }
    });
    try {
      insertAll();
    } catch (err) {
      // The caches may hold series or field types of the rolled-back transaction.
      this.loadCaches();
      throw err;
    }
    settleWrite([...refused, ...typeRefusals], stored);
  }

  /** Like InfluxDB, a field keeps the type it was first stored with; a point that differs is refused whole. */
  private typeConflict(point: Point): string | undefined {
    for (const [field, value] of Object.entries(point.fields)) {
      const known = this.fieldTypes.get(fieldTypeKey(point.measurement, field));
      const type = typeOf(value);
      if (known !== undefined && known !== type) {
        return `field "${field}" on measurement "${point.measurement}" is a ${TYPE_NAMES[type]}, already stored as a ${TYPE_NAMES[known]}`;
      }
    }
    return undefined;
  }

  private insertPoint(point: Point, newest: Map<string, LatestRow>): void {
    const seriesId = this.seriesIdFor(point);
    const { deviceId, residentId = null } = point.tags;
    for (const [field, value] of Object.entries(point.fields)) {
      const type = typeOf(value);
      const key = fieldTypeKey(point.measurement, field);
      if (!this.fieldTypes.has(key)) {
        this.insertFieldType.run(point.measurement, field, type);
        this.fieldTypes.set(key, type);
      }
      const sqlValue = toSql(value);
      this.upsertReading.run(deviceId, field, point.ts, seriesId, residentId, type, sqlValue, point.seq);
      const latestKey = `${seriesId}\u0000${field}`;
      const seen = newest.get(latestKey);
      // `>=`: a later write of the same reading wins, as it does in `readings`.
      if (!seen || point.ts >= seen.ts) {
        newest.set(latestKey, { seriesId, field, deviceId, residentId, ts: point.ts, type, value: sqlValue });
      }
    }
  }

  /** A series is a measurement with one exact set of tags, as in InfluxDB. */
  private seriesIdFor(point: Point): number {
    const tags = Object.entries(point.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify([point.measurement, ...tags]);
    const known = this.seriesIds.get(key);
    if (known !== undefined) return known;
    const { deviceId, residentId = null, homeId = null } = point.tags;
    const id = Number(
      this.insertSeries.run(
        key,
        point.measurement,
        deviceId,
        residentId,
        homeId,
        JSON.stringify(Object.fromEntries(tags)),
      ).lastInsertRowid,
    );
    this.seriesIds.set(key, id);
    return id;
  }

  async query(input: TelemetryQuery): Promise<TimeValue[]> {
    this.assertOpen();
    const q = TelemetryQuery.parse(input);
    const subject = q.deviceId !== undefined ? 'device_id' : 'resident_id';
    const subjectValue = q.deviceId ?? q.residentId;
    const order = q.order === 'desc' ? 'DESC' : 'ASC';
    const limit = q.limit ?? -1;
    const where = `${subject} = ? AND field = ? AND ts >= ? AND ts < ?`;
    if (q.every === undefined) {
      const sql = `SELECT ts, type, value FROM readings WHERE ${where} ORDER BY ts ${order} LIMIT ?`;
      const rows = this.statement(sql).all(subjectValue, q.field, q.from, q.to, limit) as ValueRow[];
      return rows.map((r) => ({ ts: r.ts, value: fromSql(r.type, r.value) }));
    }
    // `%` works on integers in SQLite, so this is the window start even though every is bound as a REAL.
    const windowStart = 'ts - ts % ?';
    const fn = q.fn ?? 'mean';
    if (fn === 'last') {
      // A bare column next to max() takes its value from the row holding the max (documented SQLite).
      const sql = `SELECT ${windowStart} AS w, max(ts) AS t, type, value FROM readings WHERE ${where}
                   GROUP BY w ORDER BY w ${order} LIMIT ?`;
      const rows = this.statement(sql).all(
        q.every,
        subjectValue,
        q.field,
        q.from,
        q.to,
        limit,
      ) as (ValueRow & {
        w: number;
      })[];
      return rows.map((r) => ({ ts: r.w, value: fromSql(r.type, r.value) }));
    }
    const aggregate = { mean: 'avg', min: 'min', max: 'max' }[fn];
    const sql = `SELECT ${windowStart} AS w, ${aggregate}(value) AS v FROM readings WHERE ${where} AND type = 'n'
                 GROUP BY w ORDER BY w ${order} LIMIT ?`;
    const rows = this.statement(sql).all(q.every, subjectValue, q.field, q.from, q.to, limit) as {
      w: number;
      v: number;
    }[];
    return rows.map((r) => ({ ts: r.w, value: r.v }));
  }

  private statement(sql: string): Statement {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return stmt;
  }

  async latest(input: SeriesSelector): Promise<LatestValue[]> {
    this.assertOpen();
    const selector = SeriesSelector.parse(input);
    const rows = (
      selector.deviceId !== undefined
        ? this.statement('SELECT field, ts, type, value FROM latest WHERE device_id = ?').all(
            selector.deviceId,
          )
        : this.statement('SELECT field, ts, type, value FROM latest WHERE resident_id = ?').all(
            selector.residentId,
          )
    ) as (ValueRow & { field: string })[];
    // Several series (measurements, devices of one resident) can hold the same field: the newest wins.
    const newest = new Map<string, LatestValue>();
    for (const r of rows) {
      const seen = newest.get(r.field);
      if (!seen || r.ts > seen.ts)
        newest.set(r.field, { field: r.field, ts: r.ts, value: fromSql(r.type, r.value) });
    }
    return [...newest.values()].sort(byField);
  }

  async latestByDevice(deviceIds: readonly string[]): Promise<Map<string, LatestValue[]>> {
    this.assertOpen();
    const ids = z.array(z.string()).parse(deviceIds);
    const newest = new Map<string, Map<string, LatestValue>>();
    // SQLite binds at most 32766 parameters; pages of the devices list are far smaller.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.db
        .prepare(
          `SELECT device_id, field, ts, type, value FROM latest WHERE device_id IN (${chunk.map(() => '?').join(', ')})`,
        )
        .all(...chunk) as (ValueRow & { device_id: string; field: string })[];
      for (const r of rows) {
        const fields = newest.get(r.device_id) ?? new Map<string, LatestValue>();
        newest.set(r.device_id, fields);
        const seen = fields.get(r.field);
        if (!seen || r.ts > seen.ts)
          fields.set(r.field, { field: r.field, ts: r.ts, value: fromSql(r.type, r.value) });
      }
    }
    return new Map([...newest].map(([id, fields]) => [id, [...fields.values()].sort(byField)]));
  }

  async applyRetention(olderThan: number): Promise<void> {
    this.assertOpen();
    const cutoff = z.number().int().parse(olderThan);
    const pairs = this.statement('SELECT DISTINCT device_id, field FROM latest').all() as {
      device_id: string;
      field: string;
    }[];
    const boundary = this.statement(
      'SELECT ts FROM readings WHERE device_id = ? AND field = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?',
    );
    const deleteUpTo = this.statement('DELETE FROM readings WHERE device_id = ? AND field = ? AND ts <= ?');
    const deleteBefore = this.statement('DELETE FROM readings WHERE device_id = ? AND field = ? AND ts < ?');
    for (const { device_id: deviceId, field } of pairs) {
      for (;;) {
        if (this.closed) return;
        const row = boundary.get(deviceId, field, cutoff, RETENTION_CHUNK - 1) as { ts: number } | undefined;
        if (!row) break;
        deleteUpTo.run(deviceId, field, row.ts);
        await yieldToEventLoop();
      }
      if (this.closed) return;
      deleteBefore.run(deviceId, field, cutoff);
    }
    // Last: a latest row goes only once every reading it summarises is gone.
    this.statement('DELETE FROM latest WHERE ts < ?').run(cutoff);
  }

  async health(): Promise<StoreHealth> {
    if (this.closed) return { ok: false, backend: this.backend, error: 'telemetry store is closed' };
    const started = performance.now();
    try {
      this.statement('SELECT 1').get();
    } catch (err) {
      return { ok: false, backend: this.backend, error: (err as Error).message };
    }
    if (this.retentionError) return { ok: false, backend: this.backend, error: this.retentionError };
    return { ok: true, backend: this.backend, latencyMs: performance.now() - started };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.retentionTimer);
    this.db.close();
  }
}

function fieldTypeKey(measurement: string, field: string): string {
  return `${measurement}\u0000${field}`;
}

function byField(a: LatestValue, b: LatestValue): number {
  return a.field < b.field ? -1 : a.field > b.field ? 1 : 0;
}
