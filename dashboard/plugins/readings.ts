// The read API over the telemetry store: readings of a device or a resident over time, raw or aggregated
// into windows, and their latest values.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AGGREGATES, Ts, type TelemetryStore } from '../../ingest/store/types.ts';
import { HttpProblem } from './problem.ts';

const DAY_MS = 24 * 3_600_000;
const MAX_WINDOWS = 10_000;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS } as const;

/** A time as Unix ms or ISO 8601. */
export const Instant = z
  .string()
  .transform((v, ctx) => {
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected Unix milliseconds or an ISO 8601 time' });
      return z.NEVER;
    }
    return ms;
  })
  // The stores' range: the same bound for every time in every query, so none reaches a store it breaks.
  .pipe(Ts.meta({ description: 'Unix milliseconds, 1970 to 2100.' }))
  .meta({ description: 'Unix milliseconds or ISO 8601, e.g. 2026-11-24T08:00:00+08:00.' });

/** A window length such as `30s`, `5m`, `1h`, `1d` or plain milliseconds. */
export const Duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)?$/, 'expected a duration such as 30s, 5m, 1h or 1d')
  .transform((v) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)?$/.exec(v)!;
    return Number(n) * UNIT_MS[(unit ?? 'ms') as keyof typeof UNIT_MS];
  })
  .pipe(z.number().int().min(1000, 'windows are at least 1 s'))
  .meta({ description: 'Aggregation window: 30s, 5m, 1h, 1d or milliseconds.' });

const ReadingsQuery = z
  .strictObject({
    measurement: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
        'a reading name such as heartRate, spo2, temperature or concentration',
      )
      .meta({
        description: 'Which reading, e.g. heartRate, spo2, skinTemp, temperature, concentration, litres.',
      }),
    from: Instant.optional(),
    to: Instant.optional(),
    every: Duration.optional(),
    fn: z
      .enum(AGGREGATES)
      .optional()
      .meta({ description: 'Aggregate per window (with every); default mean.' }),
    limit: z.coerce.number().int().min(1).max(100_000).optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ?? Date.now();
    const from = q.from ?? Math.max(0, to - DAY_MS);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
    if (q.every && (to - from) / q.every > MAX_WINDOWS) {
      ctx.addIssue({ code: 'custom', path: ['every'], message: `at most ${MAX_WINDOWS} windows per query` });
    }
    if (q.fn && !q.every) ctx.addIssue({ code: 'custom', path: ['fn'], message: 'fn needs every' });
    return { ...q, from, to };
  });

const Reading = z.object({ ts: z.number().int(), value: z.union([z.number(), z.boolean(), z.string()]) });
const ReadingsResponse = z.object({
  subject: z.object({ kind: z.enum(['device', 'resident']), id: z.string() }),
  measurement: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  every: z.number().int().nullable(),
  fn: z.enum(AGGREGATES).nullable(),
  readings: z.array(Reading),
});
const LatestResponse = z.object({
  subject: z.object({ kind: z.enum(['device', 'resident']), id: z.string() }),
  latest: z.array(z.object({ field: z.string(), ts: z.number().int(), value: Reading.shape.value })),
});

export interface ReadingsOptions {
  store: TelemetryStore;
  deviceExists(id: string): Promise<boolean>;
  residentExists(id: string): Promise<boolean>;
}

const IdParams = z.object({ id: z.string().min(1).max(128) });

export default async function readingsPlugin(app: FastifyInstance, opts: ReadingsOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  for (const kind of ['device', 'resident'] as const) {
    const exists = kind === 'device' ? opts.deviceExists : opts.residentExists;
    const select = (id: string) => (kind === 'device' ? { deviceId: id } : { residentId: id });
    const base = `/api/v1/${kind}s/:id`;
    const tag = kind === 'device' ? 'devices' : 'residents';

    api.get(
      `${base}/readings`,
      {
        schema: {
          tags: [tag],
          summary: `Readings of one ${kind} over time, raw or aggregated`,
          security: [{ bearerAuth: [] }],
          params: IdParams,
          querystring: ReadingsQuery,
          response: { 200: ReadingsResponse },
        },
      },
      async (req) => {
        const { id } = req.params;
        if (!(await exists(id))) throw new HttpProblem(404, `no ${kind} ${id}`);
        const q = req.query;
        const readings = await opts.store.query({
          ...select(id),
          field: q.measurement,
          from: q.from,
          to: q.to,
          ...(q.every ? { every: q.every, fn: q.fn ?? 'mean' } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        });
        return {
          subject: { kind, id },
          measurement: q.measurement,
          from: q.from,
          to: q.to,
          every: q.every ?? null,
          fn: q.every ? (q.fn ?? 'mean') : null,
          readings,
        };
      },
    );

    api.get(
      `${base}/latest`,
      {
        schema: {
          tags: [tag],
          summary: `The latest value of every reading of one ${kind}`,
          security: [{ bearerAuth: [] }],
          params: IdParams,
          response: { 200: LatestResponse },
        },
      },
      async (req) => {
        const { id } = req.params;
        if (!(await exists(id))) throw new HttpProblem(404, `no ${kind} ${id}`);
        return { subject: { kind, id }, latest: await opts.store.latest(select(id)) };
      },
    );
  }
}
