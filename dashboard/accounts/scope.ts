// Who may see and do what: the one place the dashboard decides it. Every HTTP route and the Socket.IO
// server ask a Scope; nothing else compares roles, communities or residents.
//   admin (and API bearer tokens): everything;
//   staff: residents, homes, devices and alerts of the communities they are assigned to;
//   family: the residents they are assigned to, their homes' devices, and those residents' alerts.
// Alerts about Anju itself (storage almost full or failing) are seen by all staff and admins.
import { SYSTEM_RESIDENT, type Alert } from '../../alerting/alerts/index.ts';
import { ALL_ALERTS_ROOM, SYSTEM_ALERTS_ROOM, communityRoom, residentRoom } from '../live/rooms.ts';
import type { ApiToken, Device, HomePath, Resident } from '../../registry/index.ts';
import type { Role, User } from './schemas.ts';

/** Whoever made a request: a signed-in person (browser session) or an API token (acts as admin). */
export type Principal = { kind: 'user'; user: User } | { kind: 'token'; token: ApiToken };

/** Alerts a family member may take on ("I'm on it") but only staff close: someone must have been there. */
const STAFF_CLOSE_RULES: ReadonlySet<string> = new Set(['event.sos', 'event.fall']);

/** The registry's lookups, whether they answer at once or as a promise. */
interface Lookup {
  getResident(id: string): Pick<Resident, 'home'> | undefined | Promise<Pick<Resident, 'home'> | undefined>;
  getHome(id: string): HomePath | undefined | Promise<HomePath | undefined>;
}

export class Scope {
  readonly role: Role;
  /** Who to record as having acted: the user id, or `token:<id>`. */
  readonly actor: string;
  private readonly communities: ReadonlySet<string>;
  private readonly residents: ReadonlySet<string>;
  private familyHomes: Promise<Set<string>> | undefined;
  /** Home -> community, looked up once per request however many devices are in a home. */
  private readonly homeCommunities = new Map<string, Promise<string | undefined>>();

  constructor(
    readonly principal: Principal,
    private readonly registry: Lookup,
  ) {
    this.role = principal.kind === 'token' ? principal.token.role : principal.user.role;
    this.actor = principal.kind === 'token' ? `token:${principal.token.id}` : principal.user.id;
    this.communities = new Set(principal.kind === 'user' ? principal.user.communities : []);
    this.residents = new Set(principal.kind === 'user' ? principal.user.residents : []);
  }

  get isAdmin(): boolean {
    return this.role === 'admin';
  }

  seesCommunity(communityId: string): boolean {
    return this.isAdmin || (this.role === 'staff' && this.communities.has(communityId));
  }

  async seesResident(residentId: string): Promise<boolean> {
    if (this.isAdmin) return true;
    if (this.role === 'family') return this.residents.has(residentId);
    const resident = await this.registry.getResident(residentId);
    return resident !== undefined && this.communities.has(resident.home.communityId);
  }

  /** Like seesResident, for a resident record already at hand. */
  seesResidentRecord(resident: Pick<Resident, 'id' | 'home'>): boolean {
    if (this.role === 'family') return this.residents.has(resident.id);
    return this.seesCommunity(resident.home.communityId);
  }

  async seesHome(home: HomePath): Promise<boolean> {
    if (this.role === 'family') return (await this.homesOfFamily()).has(home.homeId);
    return this.seesCommunity(home.communityId);
  }

  async seesDevice(device: Pick<Device, 'homeId' | 'residentId'>): Promise<boolean> {
    if (this.isAdmin) return true;
    if (this.role === 'family') {
      return (
        (device.residentId !== null && this.residents.has(device.residentId)) ||
        (await this.homesOfFamily()).has(device.homeId)
      );
    }
    const community = await this.communityOfHome(device.homeId);
    return community !== undefined && this.communities.has(community);
  }

  /** The devices of `devices` inside this scope, in their order. */
  async devicesSeen<D extends Pick<Device, 'homeId' | 'residentId'>>(devices: readonly D[]): Promise<D[]> {
    const seen = await Promise.all(devices.map((d) => this.seesDevice(d)));
    return devices.filter((_, i) => seen[i]);
  }

  seesAlert(alert: Pick<Alert, 'residentId' | 'communityId'>): boolean {
    if (this.isAdmin) return true;
    if (this.role === 'family') return this.residents.has(alert.residentId);
    if (alert.residentId === SYSTEM_RESIDENT) return true;
    return alert.communityId !== null && this.communities.has(alert.communityId);
  }

  /** Acknowledging and notes: anyone who sees the alert. Resolving SOS and falls: not family. */
  mayResolve(alert: Pick<Alert, 'residentId' | 'communityId' | 'ruleId'>): boolean {
    return this.seesAlert(alert) && !(this.role === 'family' && STAFF_CLOSE_RULES.has(alert.ruleId));
  }

  /** The filter that keeps an alert query inside this scope (undefined fields: no restriction). */
  alertFilter(): { residentIds?: string[]; communityIds?: string[] } {
    if (this.isAdmin) return {};
    if (this.role === 'family') return { residentIds: [...this.residents] };
    return { communityIds: [...this.communities] };
  }

  /** The reach that keeps a resident query (registry.findResidents) inside this scope. */
  residentReach(): { communityIds?: string[]; residentIds?: string[] } {
    if (this.isAdmin) return {};
    if (this.role === 'family') return { residentIds: [...this.residents] };
    return { communityIds: [...this.communities] };
  }

  /** The reach that keeps a device query (registry.findDevices) inside this scope, as seesDevice does. */
  async deviceReach(): Promise<{
    communityIds?: string[];
    of?: { residentIds: string[]; homeIds: string[] };
  }> {
    if (this.isAdmin) return {};
    if (this.role === 'family') {
      return { of: { residentIds: [...this.residents], homeIds: [...(await this.homesOfFamily())] } };
    }
    return { communityIds: [...this.communities] };
  }

  /** The Socket.IO rooms this principal's sockets are put in. */
  rooms(): string[] {
    if (this.isAdmin) return [ALL_ALERTS_ROOM];
    if (this.role === 'family') return [...this.residents].map(residentRoom);
    return [...[...this.communities].map(communityRoom), SYSTEM_ALERTS_ROOM];
  }

  private homesOfFamily(): Promise<Set<string>> {
    this.familyHomes ??= Promise.all([...this.residents].map((id) => this.registry.getResident(id))).then(
      (residents) => new Set(residents.flatMap((r) => r?.home.homeId ?? [])),
    );
    return this.familyHomes;
  }

  private communityOfHome(homeId: string): Promise<string | undefined> {
    let community = this.homeCommunities.get(homeId);
    if (!community) {
      community = Promise.resolve(this.registry.getHome(homeId)).then((home) => home?.communityId);
      this.homeCommunities.set(homeId, community);
    }
    return community;
  }
}

export class Scopes {
  constructor(private readonly registry: Lookup) {}

  of(principal: Principal): Scope {
    return new Scope(principal, this.registry);
  }
}
