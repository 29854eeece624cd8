// Who may see and do what: the one place the dashboard decides it. Every HTTP route and the Socket.IO
// server ask a Scope; nothing else compares roles, communities or residents.
//   admin (and API bearer tokens): everything;
//   staff: residents, homes, devices and alerts of the communities they are assigned to;
//   family: the residents they are assigned to, their homes' devices, and those residents' alerts.
// Alerts about Anju itself (storage almost full or failing) are seen by all staff and admins.
import { SYSTEM_RESIDENT, type Alert } from '../../alerting/alerts/index.ts';
import {
  ALL_ALERTS_ROOM,
  SYSTEM_ALERTS_ROOM,
  communityRoom,
  residentRoom,
} from '../../alerting/channels/socketio.ts';
import type { ApiToken, Device, HomePath, Registry, Resident } from '../../registry/index.ts';
import type { Role, User } from './schemas.ts';

/** Whoever made a request: a signed-in person (browser session) or an API token (acts as admin). */
export type Principal = { kind: 'user'; user: User } | { kind: 'token'; token: ApiToken };

/** Alerts a family member may take on ("I'm on it") but only staff close: someone must have been there. */
const STAFF_CLOSE_RULES: ReadonlySet<string> = new Set(['event.sos', 'event.fall']);

type Lookup = Pick<Registry, 'getResident' | 'listResidents' | 'listHomes'>;

/**
 * What a scope needs from the registry, read once when it is made (the registry is asynchronous, the
 * checks are not): the homes of a family's residents; the homes and residents of a staff member's
 * communities.
 */
interface Reach {
  homes: ReadonlySet<string>;
  residents: ReadonlySet<string>;
}

async function reachOf(principal: Principal, registry: Lookup): Promise<Reach> {
  if (principal.kind === 'token' || principal.user.role === 'admin')
    return { homes: new Set(), residents: new Set() };
  if (principal.user.role === 'family') {
    const residents = await Promise.all(principal.user.residents.map((id) => registry.getResident(id)));
    return {
      homes: new Set(residents.flatMap((r) => r?.home.homeId ?? [])),
      residents: new Set(principal.user.residents),
    };
  }
  const homes = new Set<string>();
  const residents = new Set<string>();
  for (const communityId of principal.user.communities) {
    for (const home of await registry.listHomes(communityId)) homes.add(home.homeId);
    for (const r of await registry.listResidents({ communityId })) residents.add(r.id);
  }
  return { homes, residents };
}

export class Scope {
  readonly role: Role;
  /** Who to record as having acted: the user id, or `token:<id>`. */
  readonly actor: string;
  private readonly communities: ReadonlySet<string>;
  private readonly residents: ReadonlySet<string>;

  constructor(
    readonly principal: Principal,
    private readonly reach: Reach,
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

  seesResident(residentId: string): boolean {
    if (this.isAdmin) return true;
    if (this.role === 'family') return this.residents.has(residentId);
    return this.reach.residents.has(residentId);
  }

  /** Like seesResident, for a resident record already at hand. */
  seesResidentRecord(resident: Pick<Resident, 'id' | 'home'>): boolean {
    if (this.role === 'family') return this.residents.has(resident.id);
    return this.seesCommunity(resident.home.communityId);
  }

  seesHome(home: HomePath): boolean {
    if (this.role === 'family') return this.reach.homes.has(home.homeId);
    return this.seesCommunity(home.communityId);
  }

  seesDevice(device: Pick<Device, 'homeId' | 'residentId'>): boolean {
    if (this.isAdmin) return true;
    if (this.role === 'family') {
      return (
        (device.residentId !== null && this.residents.has(device.residentId)) ||
        this.reach.homes.has(device.homeId)
      );
    }
    return this.reach.homes.has(device.homeId);
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

  /** The Socket.IO rooms this principal's sockets are put in. */
  rooms(): string[] {
    if (this.isAdmin) return [ALL_ALERTS_ROOM];
    if (this.role === 'family') return [...this.residents].map(residentRoom);
    return [...[...this.communities].map(communityRoom), SYSTEM_ALERTS_ROOM];
  }
}

export class Scopes {
  constructor(private readonly registry: Lookup) {}

  async of(principal: Principal): Promise<Scope> {
    return new Scope(principal, await reachOf(principal, this.registry));
  }
}
