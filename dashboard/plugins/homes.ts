// The homes overview: every home in the caller's scope as a tile with the one status staff must see
// first. In order of urgency: an unresolved alert; a device gone silent; no movement at home for too
// long (homes with a motion sensor only); otherwise fine.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../../alerting/alerts/index.ts';
import type { DeviceKind } from '../../firmware-protocol/index.ts';
import type { TelemetryStore } from '../../ingest/store/types.ts';
import type { Device, HomePath, Registry, Resident } from '../../registry/index.ts';
import type { Scope } from '../accounts/index.ts';
import { scopeOf } from './access.ts';

export const HOME_STATUSES = ['ok', 'alert', 'device_offline', 'no_recent_activity'] as const;
export type HomeStatus = (typeof HOME_STATUSES)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * A device not connected and silent this long is offline: three missed heartbeats at the rule engine's
 * default intervals (alerting/rules/defaults.yaml), so the tile and the device.offline alert agree.
 */
export const SILENT_AFTER_MS: Record<DeviceKind, number> = {
  wearable: 15 * MINUTE,
  gas_sensor: 15 * MINUTE,
  env_monitor: 15 * MINUTE,
  water_meter: 3 * HOUR,
};

/** No motion seen at home for this long marks the tile; the absence rule decides about alerting. */
export const NO_ACTIVITY_AFTER_MS = 12 * HOUR;

/** How far back the last motion is looked for. */
const ACTIVITY_LOOKBACK_MS = 24 * HOUR;

const Home = z.object({
  homeId: z.string(),
  communityId: z.string(),
  community: z.string(),
  compound: z.string(),
  building: z.string(),
  home: z.string(),
  residents: z.array(z.object({ id: z.string(), name: z.string() })),
  status: z.enum(HOME_STATUSES),
  openAlerts: z.number().int().meta({ description: 'Open or acknowledged alerts of the residents.' }),
  lastActivityAt: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'Last motion seen by a motion sensor in the home (last 24 h), Unix ms.' }),
});
type Home = z.infer<typeof Home>;

export interface HomeRoutesOptions {
  registry: Pick<Registry, 'listResidents' | 'listDevices' | 'getHome'>;
  alerts: Pick<AlertService, 'list'>;
  store: Pick<TelemetryStore, 'query'>;
  now?: () => number;
}

export function deviceOffline(device: Device, now: number): boolean {
  if (device.revokedAt !== null || device.online) return false;
  return device.lastSeen === null || now - device.lastSeen > SILENT_AFTER_MS[device.kind];
}

export default fp(async function homeRoutesPlugin(app: FastifyInstance, opts: HomeRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const now = opts.now ?? Date.now;

  /** The latest motion seen by any of these devices, or null. */
  async function lastMotion(devices: Device[], at: number): Promise<number | null> {
    const times = await Promise.all(
      devices.map(async (d) => {
        const readings = await opts.store.query({
          deviceId: d.id,
          field: 'motion',
          from: at - ACTIVITY_LOOKBACK_MS,
          to: at + 1,
          order: 'desc',
          limit: 5000,
        });
        return readings.find((r) => r.value === true)?.ts ?? null;
      }),
    );
    const seen = times.filter((t): t is number => t !== null);
    return seen.length > 0 ? Math.max(...seen) : null;
  }

  async function visibleHomes(
    scope: Scope,
  ): Promise<Map<string, { path: HomePath; residents: Resident[]; devices: Device[] }>> {
    const homes = new Map<string, { path: HomePath; residents: Resident[]; devices: Device[] }>();
    for (const r of await opts.registry.listResidents()) {
      if (!scope.seesResidentRecord(r)) continue;
      const home = homes.get(r.home.homeId) ?? { path: r.home, residents: [], devices: [] };
      home.residents.push(r);
      homes.set(r.home.homeId, home);
    }
    for (const d of await opts.registry.listDevices()) {
      let home = homes.get(d.homeId);
      if (!home) {
        // A home with devices and nobody registered yet: staff still need to see it.
        const path = await opts.registry.getHome(d.homeId);
        if (!path || !scope.seesHome(path)) continue;
        home = { path, residents: [], devices: [] };
        homes.set(d.homeId, home);
      }
      if (home && scope.seesDevice(d)) home.devices.push(d);
    }
    return homes;
  }

  api.get(
    '/api/v1/homes',
    {
      schema: {
        tags: ['homes'],
        summary: 'Every home you may see, with its status',
        response: { 200: z.object({ homes: z.array(Home) }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const at = now();
      const homes = await visibleHomes(scope);
      const homeOfResident = new Map<string, string>();
      for (const [homeId, h] of homes) for (const r of h.residents) homeOfResident.set(r.id, homeId);
      const openAlerts = new Map<string, number>();
      for (const alert of opts.alerts.list({ ...scope.alertFilter(), state: 'active', limit: 1000 })) {
        const homeId = homeOfResident.get(alert.residentId);
        if (homeId !== undefined) openAlerts.set(homeId, (openAlerts.get(homeId) ?? 0) + 1);
      }
      const tiles = await Promise.all(
        [...homes.values()].map(async ({ path, residents, devices }): Promise<Home> => {
          const motionSensors = devices.filter((d) => d.kind === 'env_monitor' && d.revokedAt === null);
          const lastActivityAt = motionSensors.length > 0 ? await lastMotion(motionSensors, at) : null;
          const alerts = openAlerts.get(path.homeId) ?? 0;
          const status: HomeStatus =
            alerts > 0
              ? 'alert'
              : devices.some((d) => deviceOffline(d, at))
                ? 'device_offline'
                : motionSensors.length > 0 &&
                    (lastActivityAt === null || at - lastActivityAt > NO_ACTIVITY_AFTER_MS)
                  ? 'no_recent_activity'
                  : 'ok';
          return {
            homeId: path.homeId,
            communityId: path.communityId,
            community: path.community,
            compound: path.compound,
            building: path.building,
            home: path.home,
            residents: residents.map((r) => ({ id: r.id, name: r.name })),
            status,
            openAlerts: alerts,
            lastActivityAt,
          };
        }),
      );
      return { homes: tiles };
    },
  );
});
