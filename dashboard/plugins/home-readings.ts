// The readings of every device in a resident's home, for the charts grouped by room on the resident and
// family pages. A home's fixed sensors (room climate, gas, water, doors, motion) carry no resident, so their
// readings are found device by device; only fields a device has ever reported are queried.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_KINDS, ROOMS, type DeviceKind } from '../../firmware-protocol/index.ts';
import type { LatestValue, TelemetryStore } from '../../ingest/store/types.ts';
import type { Device, Registry } from '../../registry/index.ts';
import { scopeOf } from './access.ts';
import { HttpProblem } from './problem.ts';
import { Duration, Instant } from './readings.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The longest range one request covers, and the most windows or state changes per series. */
const MAX_RANGE_MS = 31 * DAY;
const MAX_POINTS = 2000;

type SeriesKind = 'numeric' | 'state';
/** What each kind charts: numbers as window means, states (booleans, door, events) as they happened. */
const CHARTED: Record<DeviceKind, { field: string; type: SeriesKind; unit: string }[]> = {
  wearable: [
    { field: 'heartRate', type: 'numeric', unit: 'bpm' },
    { field: 'spo2', type: 'numeric', unit: '%' },
    { field: 'skinTemp', type: 'numeric', unit: '°C' },
  ],
  env_monitor: [
    { field: 'temperature', type: 'numeric', unit: '°C' },
    { field: 'humidity', type: 'numeric', unit: '%' },
    { field: 'motion', type: 'state', unit: '' },
    { field: 'door', type: 'state', unit: '' },
    { field: 'smoke', type: 'state', unit: '' },
    { field: 'waterLeak', type: 'state', unit: '' },
  ],
  gas_sensor: [{ field: 'concentration', type: 'numeric', unit: '%LEL / ppm' }],
  water_meter: [{ field: 'flowLpm', type: 'numeric', unit: 'L/min' }],
};

const Query = z
  .strictObject({
    from: Instant.optional(),
    to: Instant.optional(),
    every: Duration.optional().meta({ description: 'Window for numeric series; default range / 288.' }),
  })
  .transform((q, ctx) => {
    const to = q.to ?? Date.now();
    const from = q.from ?? Math.max(0, to - DAY);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
    if (to - from > MAX_RANGE_MS)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'at most 31 days per query' });
    const every = q.every ?? Math.max(60_000, Math.ceil((to - from) / 288 / 60_000) * 60_000);
    if ((to - from) / every > MAX_POINTS)
      ctx.addIssue({ code: 'custom', path: ['every'], message: `at most ${MAX_POINTS} windows per query` });
    return { from, to, every };
  });

const Series = z.object({
  measurement: z.string(),
  type: z.enum(['numeric', 'state']),
  unit: z.string(),
  readings: z.array(
    z.object({ ts: z.number().int(), value: z.union([z.number(), z.boolean(), z.string()]) }),
  ),
});

const HomeReadings = z.object({
  residentId: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  every: z.number().int(),
  devices: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(DEVICE_KINDS),
      room: z.enum(ROOMS).nullable(),
      wornBy: z.string().nullable().meta({ description: 'The resident a wearable belongs to.' }),
      series: z.array(Series).meta({ description: 'Only what the device has reported at some time.' }),
    }),
  ),
});

export interface HomeReadingsOptions {
  registry: Pick<Registry, 'getResident' | 'listDevices'>;
  store: Pick<TelemetryStore, 'query' | 'latestByDevice'>;
}

export default async function homeReadingsPlugin(app: FastifyInstance, opts: HomeReadingsOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  /** The charts of the fields a device has ever reported (`latest`: what it reported last, by field). */
  async function seriesOf(device: Device, latest: readonly LatestValue[], range: z.output<typeof Query>) {
    const reported = new Set(latest.map((l) => l.field));
    const charted = CHARTED[device.kind].filter((c) => reported.has(c.field));
    return Promise.all(
      charted.map(async (c) => {
        const base = { deviceId: device.id, field: c.field, from: range.from, to: range.to };
        const readings =
          c.type === 'numeric'
            ? await opts.store.query({ ...base, every: range.every, fn: 'mean' })
            : (await opts.store.query({ ...base, order: 'desc', limit: MAX_POINTS })).reverse();
        return { measurement: c.field, type: c.type, unit: c.unit, readings };
      }),
    );
  }

  api.get(
    '/api/v1/residents/:id/devices/readings',
    {
      schema: {
        tags: ['residents'],
        summary: "Readings of every device in the resident's home (and their wearable), by device",
        description:
          'Numeric readings as window means, states (motion, door, smoke, water on the floor) as reported, ' +
          `the latest ${MAX_POINTS}. At most 31 days per query; the default is the last 24 hours.`,
        params: z.strictObject({ id: z.string().min(1).max(64) }),
        querystring: Query,
        response: { 200: HomeReadings },
      },
    },
    async (req) => {
      const resident = await opts.registry.getResident(req.params.id);
      if (!resident) throw new HttpProblem(404, `no resident ${req.params.id}`);
      const scope = scopeOf(req);
      const devices = await scope.devicesSeen(
        (await opts.registry.listDevices({ homeId: resident.home.homeId })).filter(
          (d) => d.revokedAt === null && (d.residentId === null || d.residentId === resident.id),
        ),
      );
      const latest = await opts.store.latestByDevice(devices.map((d) => d.id));
      return {
        residentId: resident.id,
        ...req.query,
        devices: await Promise.all(
          devices.map(async (d) => ({
            id: d.id,
            kind: d.kind,
            room: d.room,
            wornBy: d.kind === 'wearable' ? d.residentId : null,
            series: await seriesOf(d, latest.get(d.id) ?? [], req.query),
          })),
        ),
      };
    },
  );
}
