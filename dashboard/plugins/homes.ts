// The homes overview: every home in the caller's scope as a tile with the one status staff must see
// first. In order of urgency: an unresolved alert; a device the rule engine holds offline or silent (or
// one that never reported); no sign of life for longer than the resident's routine allows (the absence
// rule); otherwise fine. The judgement is the engine's own (ResidentJudgements), so a tile and the
// alerts never disagree, and no request queries the telemetry store.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../../alerting/alerts/index.ts';
import type { ResidentJudgement, ResidentJudgements } from '../../alerting/engine.ts';
import type { Device, HomePath, Registry, Resident } from '../../registry/index.ts';
import type { Scope } from '../accounts/index.ts';
import { scopeOf } from './access.ts';

export const HOME_STATUSES = ['ok', 'alert', 'device_offline', 'no_recent_activity'] as const;
export type HomeStatus = (typeof HOME_STATUSES)[number];

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
  offlineDevices: z.array(z.string()).meta({ description: 'Devices the rules hold offline or silent.' }),
  lastActivityAt: z
    .number()
    .int()
    .nullable()
    .meta({ description: 'Last sign of life at home the rules saw (motion, door, water, steps), Unix ms.' }),
  lastReportAt: z.number().int().nullable().meta({
    description: 'Last message of any device of the home, Unix ms; null only when none ever reported.',
  }),
});
type Home = z.infer<typeof Home>;

export interface HomeRoutesOptions {
  registry: Pick<Registry, 'listResidents' | 'listDevices' | 'getHome'>;
  alerts: Pick<AlertService, 'list'>;
  judgements: ResidentJudgements;
}

const latest = (times: (number | null | undefined)[]): number | null =>
  times.reduce<number | null>((a, t) => (t != null && (a === null || t > a) ? t : a), null);

export default async function homeRoutesPlugin(app: FastifyInstance, opts: HomeRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();

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
        if (!path || !(await scope.seesHome(path))) continue;
        home = { path, residents: [], devices: [] };
        homes.set(d.homeId, home);
      }
      if (home && (await scope.seesDevice(d))) home.devices.push(d);
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
      const homes = await visibleHomes(scope);
      const homeOfResident = new Map<string, string>();
      for (const [homeId, h] of homes) for (const r of h.residents) homeOfResident.set(r.id, homeId);
      const openAlerts = new Map<string, number>();
      for (const alert of await opts.alerts.list({ ...scope.alertFilter(), state: 'active', limit: 1000 })) {
        const homeId = homeOfResident.get(alert.residentId);
        if (homeId !== undefined) openAlerts.set(homeId, (openAlerts.get(homeId) ?? 0) + 1);
      }
      const tiles = [...homes.values()].map(({ path, residents, devices }): Home => {
        const judged = residents
          .map((r) => opts.judgements.judgement(r.id))
          .filter((j): j is ResidentJudgement => j !== undefined);
        // A device registered but never heard from is offline too: the rules cannot miss what never came.
        const neverSeen = devices.filter((d) => d.revokedAt === null && !d.online && d.lastSeen === null);
        const offlineDevices = [
          ...new Set([...judged.flatMap((j) => j.offlineDevices), ...neverSeen.map((d) => d.id)]),
        ];
        const alerts = openAlerts.get(path.homeId) ?? 0;
        const status: HomeStatus =
          alerts > 0
            ? 'alert'
            : offlineDevices.length > 0
              ? 'device_offline'
              : judged.some((j) => j.inactive)
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
          offlineDevices,
          lastActivityAt: latest(judged.map((j) => j.lastActivity)),
          // The registry's last-seen covers devices the rules bind to nobody (a home nobody lives in yet).
          lastReportAt: latest([...judged.map((j) => j.lastReport), ...devices.map((d) => d.lastSeen)]),
        };
      });
      return { homes: tiles };
    },
  );
}
