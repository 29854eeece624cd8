// The telemetry store contract: the point model, the queries, and the interface every backend (embedded
// SQLite, InfluxDB) implements. ingest/store/conformance.ts is the executable form of this contract.
import { z } from 'zod';

export const MEASUREMENTS = ['wearable', 'gas', 'env', 'water', 'heartbeat', 'event'] as const;
export const Measurement = z
  .enum(MEASUREMENTS)
  .meta({ description: 'The family of a reading: one per device kind, plus heartbeats and device events.' });
export type Measurement = z.infer<typeof Measurement>;

/** InfluxDB refuses a field or tag called `time`; `seq` is stored beside every point's fields. */
export const RESERVED_NAMES: readonly string[] = ['time', 'seq'];

const MAX_NAME_LENGTH = 256;
const MAX_STRING_VALUE_LENGTH = 4_096;
// Points are stored in Unix ms; InfluxDB's own range ends in 2262, the protocol's in 2100.
const MAX_TS = 4_102_444_800_000;

export const Name = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .refine((name) => !RESERVED_NAMES.includes(name), {
    message: `names ${RESERVED_NAMES.join(', ')} are reserved`,
  });

export const TagValue = z.string().min(1).max(MAX_NAME_LENGTH);

export const FieldValue = z.union([z.number(), z.boolean(), z.string().max(MAX_STRING_VALUE_LENGTH)], {
  error: 'a field value must be a finite number, a boolean or a string',
});
export type FieldValue = z.infer<typeof FieldValue>;

export const Ts = z.number().int().min(0).max(MAX_TS).meta({ description: 'Unix milliseconds (UTC).' });

export const PointTags = z
  .object({
    deviceId: TagValue,
    residentId: TagValue.optional(),
    homeId: TagValue.optional(),
  })
  .catchall(TagValue)
  .refine(
    (tags) => !Object.keys(tags).some((k) => RESERVED_NAMES.includes(k) || k.length > MAX_NAME_LENGTH),
    {
      message: `tag keys must be at most ${MAX_NAME_LENGTH} characters and not ${RESERVED_NAMES.join(' or ')}`,
    },
  );

export const Point = z.strictObject({
  measurement: Measurement,
  tags: PointTags,
  fields: z
    .record(Name, FieldValue)
    .refine((fields) => Object.keys(fields).length > 0, { message: 'a point needs at least one field' }),
  ts: Ts.meta({ description: "The device's own time of the reading." }),
  seq: z.number().int().min(0).max(4_294_967_295),
});
export type Point = z.infer<typeof Point>;

export const AGGREGATES = ['mean', 'min', 'max', 'last'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

function exactlyOneSubject(q: { deviceId?: string | undefined; residentId?: string | undefined }): boolean {
  return (q.deviceId === undefined) !== (q.residentId === undefined);
}
const ONE_SUBJECT = { message: 'give exactly one of deviceId and residentId' };

const subject = { deviceId: TagValue.optional(), residentId: TagValue.optional() };

export const SeriesSelector = z.strictObject(subject).refine(exactlyOneSubject, ONE_SUBJECT);
export type SeriesSelector = z.infer<typeof SeriesSelector>;

export const TelemetryQuery = z
  .strictObject({
    ...subject,
    field: Name,
    from: Ts.meta({ description: 'Inclusive.' }),
    to: Ts.meta({ description: 'Exclusive.' }),
    every: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Window length in ms; windows start at multiples of it since the Unix epoch.' }),
    fn: z.enum(AGGREGATES).optional().meta({
      description: 'Aggregate per window (default mean). mean, min and max use numeric values only.',
    }),
    limit: z.number().int().min(1).max(100_000).optional(),
    order: z
      .enum(['asc', 'desc'])
      .optional()
      .meta({ description: 'By time; default asc. `limit` keeps the first.' }),
  })
  .refine(exactlyOneSubject, ONE_SUBJECT)
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
  .refine((q) => q.fn === undefined || q.every !== undefined, { message: 'fn needs every', path: ['fn'] });
export type TelemetryQuery = z.infer<typeof TelemetryQuery>;

/** One raw reading, or one window (ts = window start) of an aggregated query. */
export interface TimeValue {
  ts: number;
  value: FieldValue;
}

export interface LatestValue {
  field: string;
  ts: number;
  value: FieldValue;
}

export type StoreHealth =
  | { ok: true; backend: StoreBackend; latencyMs: number }
  | { ok: false; backend: StoreBackend; error: string };

export type StoreBackend = 'sqlite' | 'influxdb';

export interface RefusedPoint {
  /** Position in the batch given to `write`. */
  index: number;
  reason: string;
}

/**
 * Some points of a batch can never be stored (invalid, a field whose type differs from the one already
 * stored, older than the retention period). Every other point of the batch HAS been stored when this is
 * thrown, so a writer drops the refused points and moves on. Any other error from `write` means the store
 * could not be reached or failed: nothing is promised, and the writer retries the whole batch later
 * (rewriting is idempotent).
 */
export class RefusedPointsError extends Error {
  constructor(
    readonly refused: RefusedPoint[],
    readonly stored: number,
  ) {
    const first = refused
      .slice(0, 3)
      .map((r) => `#${r.index}: ${r.reason}`)
      .join('; ');
    super(
      `${refused.length} point(s) refused, ${stored} stored: ${first}${refused.length > 3 ? '; ...' : ''}`,
    );
    this.name = 'RefusedPointsError';
  }
}

export interface TelemetryStore {
  readonly backend: StoreBackend;
  /**
   * Stores the points. Idempotent: a point with the same measurement, tags and ts as a stored one replaces
   * its field values (as InfluxDB does), so a redelivered reading is stored once. Rejects with
   * RefusedPointsError when some points were refused and the rest stored; see there.
   */
  write(points: readonly Point[]): Promise<void>;
  /** Readings of one field of a device or a resident, across all measurements, oldest first. */
  query(query: TelemetryQuery): Promise<TimeValue[]>;
  /** The most recent value of every field of a device or a resident, sorted by field name. */
  latest(selector: SeriesSelector): Promise<LatestValue[]>;
  /**
   * `latest` of many devices at once (a page of the devices list): a bounded number of queries however
   * many devices. Each device's values are sorted by field; a device with none is absent.
   */
  latestByDevice(deviceIds: readonly string[]): Promise<Map<string, LatestValue[]>>;
  /** Deletes every point with ts < olderThan. */
  applyRetention(olderThan: number): Promise<void>;
  /** Never rejects: reports whether the store answers, and how fast. */
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
