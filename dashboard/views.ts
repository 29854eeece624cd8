// What the dashboard shows of alerts and devices: the records joined with the names people read (resident,
// home) and the health a devices page needs (battery, firmware and signal from the telemetry store's
// latest values; refused messages from the gateway). Used by the HTTP routes and the Socket.IO feed.
import { z } from 'zod';
import { Alert } from '../alerting/alerts/index.ts';
import { DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import type { LatestValue, TelemetryStore } from '../ingest/store/types.ts';
import {
  CONTACT_RELATIONS,
  type Contact,
  type Device,
  type Registry,
  type Resident,
} from '../registry/index.ts';

/** Who acted, as people read it: a user's display name and role, an API token, or Anju itself. */
export const Person = z.object({
  name: z.string(),
  role: z.enum(['admin', 'staff', 'family', 'token', 'system']),
});
export type Person = z.infer<typeof Person>;

/** Whom a delivery went to, as people read it: a contact by name and relation, a community's console. */
export const RecipientView = z.object({
  name: z.string(),
  role: z.enum(['console', ...CONTACT_RELATIONS, 'webhook']),
});
export type RecipientView = z.infer<typeof RecipientView>;

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
  /** Residents known in memory (names and homes do not change), asked before the registry. */
  known?: { resident(residentId: string): Pick<Resident, 'name' | 'home'> | undefined };
  store: Pick<TelemetryStore, 'latest' | 'latestByDevice'>;
  /** Refused messages of a device by reason (gateway.refusals.forDevice). */
  refusals(deviceId: string): Partial<Record<string, number>>;
  /** A user by id (us_...), for names instead of ids. */
  user?(id: string): Promise<{ displayName: string; role: 'admin' | 'staff' | 'family' } | undefined>;
}

export class Views {
  constructor(private readonly opts: ViewsOptions) {}

  /** One registry lookup per distinct resident and one account lookup per person, however many alerts. */
  async alerts(alerts: readonly Alert[]): Promise<AlertView[]> {
    const names = new Map<string, { residentName: string | null; homeLabel: string | null }>();
    const contactsOf = new Map<string, readonly Contact[]>();
    const known = new Map<string, Person | undefined>();
    const views: AlertView[] = [];
    for (const alert of alerts) {
      let named = names.get(alert.residentId);
      if (!named) {
        const r =
          this.opts.known?.resident(alert.residentId) ??
          (await this.opts.registry.getResident(alert.residentId));
        named = {
          residentName: r?.name ?? null,
          homeLabel: r ? [r.home.compound, r.home.building, r.home.home].join(' / ') : null,
        };
        names.set(alert.residentId, named);
      }
      const actors = [alert.acknowledgedBy, alert.resolvedBy].filter((a): a is string => a !== null);
      const people = await this.people(
        actors.filter((a) => !a.startsWith('contact:')),
        known,
      );
      // Someone who acted through a one-tap link is the resident's contact: named by the registry.
      for (const actor of actors.filter((a) => a.startsWith('contact:'))) {
        let contacts = contactsOf.get(alert.residentId);
        if (!contacts) {
          contacts = (await this.opts.registry.getResident(alert.residentId))?.contacts ?? [];
          contactsOf.set(alert.residentId, contacts);
        }
        const contact = contacts.find((c) => `contact:${c.id}` === actor);
        if (contact) people[actor] = contactPerson(contact);
      }
      views.push({ ...alert, ...named, people });
    }
    return views;
  }

  /** Names and roles of the actors an alert's records name (user ids, `token:<id>`, `system`). */
  async people(
    actors: Iterable<string>,
    known = new Map<string, Person | undefined>(),
  ): Promise<Record<string, Person>> {
    const people: Record<string, Person> = {};
    for (const actor of actors) {
      if (!known.has(actor)) known.set(actor, await this.person(actor));
      const person = known.get(actor);
      if (person) people[actor] = person;
    }
    return people;
  }

  private async person(actor: string): Promise<Person | undefined> {
    if (actor === 'system') return { name: 'Anju', role: 'system' };
    if (actor.startsWith('token:')) return { name: actor.slice('token:'.length), role: 'token' };
    // A duty group's robot message taken on through its link.
    if (actor.startsWith('webhook:')) return { name: actor.slice('webhook:'.length), role: 'staff' };
    const user = await this.opts.user?.(actor);
    return user && { name: user.displayName, role: user.role };
  }

  /**
   * The recipients of an alert's deliveries (`console:<community>`, `contact:<id>`, `webhook:<name>`) by
   * name: the contacts are the resident's, the console is the community's.
   */
  async recipients(alert: Alert, keys: Iterable<string>): Promise<Record<string, RecipientView>> {
    const resident = await this.opts.registry.getResident(alert.residentId);
    const out: Record<string, RecipientView> = {};
    for (const key of keys) {
      const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (kind === 'console' && resident?.home.communityId === id)
        out[key] = { name: resident.home.community, role: 'console' };
      else if (kind === 'webhook') out[key] = { name: id, role: 'webhook' };
      else if (kind === 'contact') {
        const contact = resident?.contacts.find((c) => c.id === id);
        if (contact) out[key] = { name: contact.name, role: contact.relation };
      }
    }
    return out;
  }

  async alert(alert: Alert): Promise<AlertView> {
    return (await this.alerts([alert]))[0]!;
  }

  async device(device: Device): Promise<DeviceView> {
    return this.deviceView(device, await this.opts.store.latest({ deviceId: device.id }));
  }

  /** A page of devices with one store query for all of them, not one each. */
  async devices(devices: readonly Device[]): Promise<DeviceView[]> {
    const latest = await this.opts.store.latestByDevice(devices.map((d) => d.id));
    return devices.map((d) => this.deviceView(d, latest.get(d.id) ?? []));
  }

  private deviceView(device: Device, latest: readonly LatestValue[]): DeviceView {
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
}

/** A contact as a person: staff and grid workers as staff, family and neighbours as family. */
export function contactPerson(contact: Pick<Contact, 'name' | 'relation'>): Person {
  return {
    name: contact.name,
    role: contact.relation === 'staff' || contact.relation === 'grid_worker' ? 'staff' : 'family',
  };
}
