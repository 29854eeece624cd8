// What the dashboard shows of alerts and devices: the records joined with the names people read (resident,
// home) and the health a devices page needs (battery, firmware and signal from the telemetry store's
// latest values; refused messages from the gateway). Used by the HTTP routes and the Socket.IO feed.
import { z } from 'zod';
import { Alert } from '../alerting/alerts/index.ts';
import { DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import type { TelemetryStore } from '../ingest/store/types.ts';
import type { Device, Registry } from '../registry/index.ts';

/** Who acted, as people read it: a user's display name and role, an API token, or Anju itself. */
export const Person = z.object({
  name: z.string(),
  role: z.enum(['admin', 'staff', 'family', 'token', 'system']),
});
export type Person = z.infer<typeof Person>;

export const AlertView = Alert.extend({
  residentName: z
    .string()
    .nullable()
    .meta({ description: 'null when the registry does not know the resident.' }),
  homeLabel: z.string().nullable().meta({ description: 'Compound / building / home.' }),
  people: z.record(z.string(), Person).meta({
    description: 'Who took the alert on and who resolved it, by the ids in acknowledgedBy and resolvedBy.',
  }),
});
export type AlertView = z.infer<typeof AlertView>;

export const DeviceView = z.object({
  id: z.string(),
  kind: z.enum(DEVICE_KINDS),
  residentId: z.string().nullable(),
  homeId: z.string(),
  room: z.enum(ROOMS).nullable(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  online: z.boolean(),
  lastSeen: z.number().int().nullable(),
  revoked: z.boolean(),
  battery: z.number().nullable().meta({ description: 'Percent, from the latest reading that carried it.' }),
  firmware: z.string().nullable(),
  rssi: z.number().nullable().meta({ description: 'dBm, from the latest heartbeat.' }),
  refused: z.record(z.string(), z.number().int()).meta({
    description: 'Messages refused since this server started, by error code (E_JSON, E_RANGE, ...).',
  }),
});
export type DeviceView = z.infer<typeof DeviceView>;

export interface ViewsOptions {
  registry: Pick<Registry, 'getResident'>;
  store: Pick<TelemetryStore, 'latest'>;
  /** Refused messages of a device by reason (gateway.refusals.forDevice). */
  refusals(deviceId: string): Partial<Record<string, number>>;
  /** A user by id (us_...), for names instead of ids. */
  user?(id: string): { displayName: string; role: 'admin' | 'staff' | 'family' } | undefined;
}

export class Views {
  constructor(private readonly opts: ViewsOptions) {}

  /** One registry lookup per distinct resident, however many alerts they have. */
  async alerts(alerts: readonly Alert[]): Promise<AlertView[]> {
    const names = new Map<string, { residentName: string | null; homeLabel: string | null }>();
    for (const residentId of new Set(alerts.map((a) => a.residentId))) {
      const r = await this.opts.registry.getResident(residentId);
      names.set(residentId, {
        residentName: r?.name ?? null,
        homeLabel: r ? [r.home.compound, r.home.building, r.home.home].join(' / ') : null,
      });
    }
    return alerts.map((alert) => {
      const actors = [alert.acknowledgedBy, alert.resolvedBy].filter((a): a is string => a !== null);
      return { ...alert, ...names.get(alert.residentId)!, people: this.people(actors) };
    });
  }

  /** Names and roles of the actors an alert's records name (user ids, `token:<id>`, `system`). */
  people(actors: Iterable<string>): Record<string, Person> {
    const people: Record<string, Person> = {};
    for (const actor of actors) {
      if (actor in people) continue;
      if (actor === 'system') people[actor] = { name: 'Anju', role: 'system' };
      else if (actor.startsWith('token:'))
        people[actor] = { name: actor.slice('token:'.length), role: 'token' };
      else {
        const user = this.opts.user?.(actor);
        if (user) people[actor] = { name: user.displayName, role: user.role };
      }
    }
    return people;
  }

  async alert(alert: Alert): Promise<AlertView> {
    return (await this.alerts([alert]))[0]!;
  }

  async device(device: Device): Promise<DeviceView> {
    const latest = await this.opts.store.latest({ deviceId: device.id });
    const value = (field: string) => latest.find((l) => l.field === field)?.value;
    const battery = value('battery');
    const firmware = value('firmware');
    const rssi = value('rssi');
    const refused = Object.fromEntries(
      Object.entries(this.opts.refusals(device.id)).filter((e): e is [string, number] => e[1] !== undefined),
    );
    return {
      id: device.id,
      kind: device.kind,
      residentId: device.residentId,
      homeId: device.homeId,
      room: device.room,
      vendor: device.vendor,
      model: device.model,
      online: device.online,
      lastSeen: device.lastSeen,
      revoked: device.revokedAt !== null,
      battery: typeof battery === 'number' ? battery : null,
      firmware: typeof firmware === 'string' ? firmware : null,
      rssi: typeof rssi === 'number' ? rssi : null,
      refused,
    };
  }

  devices(devices: readonly Device[]): Promise<DeviceView[]> {
    return Promise.all(devices.map((d) => this.device(d)));
  }
}
