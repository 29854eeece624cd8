// The registry's SQL: synchronous reads and writes on prepared statements, taking inputs that are
// already validated. Registry (index.ts) and the roster importer compose these into their operations.
import type { Database, Statement } from 'better-sqlite3';
import type { DeviceKind } from '../firmware-protocol/index.ts';
import type { GatewayDevice } from '../gateway/ports.ts';
import { RegistryError } from './errors.ts';
import { newId, type IdPrefix } from './ids.ts';
import type { z } from 'zod';
import type {
  Contact,
  ContactInput,
  Device,
  DeviceFilter,
  DeviceInput,
  HomeAddress,
  HomePath,
  Resident,
  ResidentFields,
  ResidentFilter,
} from './schemas.ts';

export type ValidContact = z.output<typeof ContactInput>;
export type ValidDevice = z.output<typeof DeviceInput>;

interface ResidentRow {
  id: string;
  name: string;
  lives_alone: number;
  birth_year: number | null;
  conditions: string;
  language: Resident['language'];
  routine_notes: string | null;
  created_at: number;
}
type ResidentWithPathRow = ResidentRow & HomePath;

interface DeviceRow {
  id: string;
  kind: DeviceKind;
  home_id: string;
  resident_id: string | null;
  room: Device['room'];
  vendor: string | null;
  model: string | null;
  secret_hash: string;
  revoked_at: number | null;
  last_seen: number | null;
  online: number;
  created_at: number;
}

interface ContactRow {
  id: string;
  resident_id: string;
  name: string;
  relation: Contact['relation'];
  phone: string | null;
  email: string | null;
  channels: string;
  escalation_order: number;
  created_at: number;
}

const HOME_PATH_SELECT = `
  h.id AS homeId, c.region AS region, c.id AS communityId, c.name AS community,
  p.id AS compoundId, p.name AS compound, b.id AS buildingId, b.name AS building, h.label AS home,
  h.time_zone AS timeZone, c.time_zone AS communityTimeZone
  FROM homes h
  JOIN buildings b ON b.id = h.building_id
  JOIN compounds p ON p.id = b.compound_id
  JOIN communities c ON c.id = p.community_id`;

const RESIDENT_SELECT = `SELECT r.*, ${HOME_PATH_SELECT} JOIN residents r ON r.home_id = h.id`;
const RESIDENT_ORDER = 'ORDER BY c.region, c.name, p.name, b.name, h.label, r.name';

/** The three levels below a community, each found or created by (parent, name). */
const LEVELS = {
  compound: { table: 'compounds', parent: 'community_id', label: 'name', prefix: 'cp' },
  building: { table: 'buildings', parent: 'compound_id', label: 'name', prefix: 'bd' },
  home: { table: 'homes', parent: 'building_id', label: 'label', prefix: 'hm' },
} as const satisfies Record<string, { table: string; parent: string; label: string; prefix: IdPrefix }>;

type Level = keyof typeof LEVELS;

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    kind: row.kind,
    homeId: row.home_id,
    residentId: row.resident_id,
    room: row.room,
    vendor: row.vendor,
    model: row.model,
    revokedAt: row.revoked_at,
    lastSeen: row.last_seen,
    online: row.online === 1,
    createdAt: row.created_at,
  };
}

function toResident(row: ResidentWithPathRow): Resident {
  return {
    id: row.id,
    name: row.name,
    livesAlone: row.lives_alone === 1,
    birthYear: row.birth_year,
    conditions: JSON.parse(row.conditions) as string[],
    language: row.language,
    routineNotes: row.routine_notes,
    createdAt: row.created_at,
    home: {
      homeId: row.homeId,
      region: row.region,
      communityId: row.communityId,
      community: row.community,
      compoundId: row.compoundId,
      compound: row.compound,
      buildingId: row.buildingId,
      building: row.building,
      home: row.home,
      timeZone: row.timeZone,
      communityTimeZone: row.communityTimeZone,
    },
  };
}

function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    residentId: row.resident_id,
    name: row.name,
    relation: row.relation,
    phone: row.phone,
    email: row.email,
    channels: JSON.parse(row.channels) as Contact['channels'],
    escalationOrder: row.escalation_order,
    createdAt: row.created_at,
  };
}

export function formatHomePath(home: HomePath): string {
  return [home.region, home.community, home.compound, home.building, home.home].filter(Boolean).join(' / ');
}

export class RegistryStore {
  private readonly stmt;
  private readonly levelStmts: Record<Level, { find: Statement; insert: Statement }>;

  constructor(
    readonly db: Database,
    private readonly now: () => number,
  ) {
    this.stmt = {
      communitiesByName: db.prepare<[string], { id: string; region: string }>(
        'SELECT id, region FROM communities WHERE name = ? ORDER BY region',
      ),
      communityByRegionName: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM communities WHERE region = ? AND name = ?',
      ),
      insertCommunity: db.prepare(
        'INSERT INTO communities (id, name, region, created_at) VALUES (?, ?, ?, ?)',
      ),
      homePath: db.prepare<[string], HomePath>(`SELECT ${HOME_PATH_SELECT} WHERE h.id = ?`),
      residentById: db.prepare<[string], ResidentWithPathRow>(`${RESIDENT_SELECT} WHERE r.id = ?`),
      residentIdByName: db.prepare<[string, string], { id: string }>(
        'SELECT id FROM residents WHERE home_id = ? AND name = ?',
      ),
      residentHome: db.prepare<[string], { home_id: string }>('SELECT home_id FROM residents WHERE id = ?'),
      listResidents: db.prepare<{ communityId: string | null; homeId: string | null }, ResidentWithPathRow>(
        `${RESIDENT_SELECT}
         WHERE (:communityId IS NULL OR c.id = :communityId) AND (:homeId IS NULL OR h.id = :homeId)
         ${RESIDENT_ORDER}`,
      ),
      insertResident: db.prepare(
        `INSERT INTO residents (id, home_id, name, lives_alone, birth_year, conditions, language, routine_notes, created_at)
         VALUES (:id, :homeId, :name, :livesAlone, :birthYear, :conditions, :language, :routineNotes, :createdAt)`,
      ),
      updateResident: db.prepare(
        `UPDATE residents SET lives_alone = :livesAlone, birth_year = :birthYear, conditions = :conditions,
           language = :language, routine_notes = :routineNotes
         WHERE id = :id`,
      ),
      insertContact: db.prepare(
        `INSERT INTO contacts (id, resident_id, name, relation, phone, email, channels, escalation_order, created_at)
         VALUES (:id, :residentId, :name, :relation, :phone, :email, :channels, :escalationOrder, :createdAt)`,
      ),
      contactsOf: db.prepare<[string], ContactRow>(
        'SELECT * FROM contacts WHERE resident_id = ? ORDER BY escalation_order, created_at, id',
      ),
      deviceById: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?'),
      listDevices: db.prepare<{ residentId: string | null; homeId: string | null }, DeviceRow>(
        `SELECT * FROM devices
         WHERE (:residentId IS NULL OR resident_id = :residentId) AND (:homeId IS NULL OR home_id = :homeId)
         ORDER BY home_id, id`,
      ),
      insertDevice: db.prepare(
        `INSERT INTO devices (id, kind, home_id, resident_id, room, vendor, model, secret_hash, created_at)
         VALUES (:id, :kind, :homeId, :residentId, :room, :vendor, :model, :secretHash, :createdAt)`,
      ),
      revokeDevice: db.prepare('UPDATE devices SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?'),
      revokedIds: db.prepare<[], { id: string }>('SELECT id FROM devices WHERE revoked_at IS NOT NULL'),
      markOnline: db.prepare(
        'UPDATE devices SET online = 1, last_seen = MAX(COALESCE(last_seen, 0), :at) WHERE id = :id',
      ),
      markOffline: db.prepare('UPDATE devices SET online = 0 WHERE id = ?'),
      lastSeen: db.prepare('UPDATE devices SET last_seen = MAX(COALESCE(last_seen, 0), :at) WHERE id = :id'),
      homeTimeZone: db.prepare('UPDATE homes SET time_zone = ? WHERE id = ?'),
      communityTimeZone: db.prepare('UPDATE communities SET time_zone = ? WHERE id = ?'),
    };
    const levelStmts = {} as Record<Level, { find: Statement; insert: Statement }>;
    for (const [level, l] of Object.entries(LEVELS) as [Level, (typeof LEVELS)[Level]][]) {
      levelStmts[level] = {
        find: db.prepare(`SELECT id FROM ${l.table} WHERE ${l.parent} = ? AND ${l.label} = ?`).pluck(),
        insert: db.prepare(
          `INSERT INTO ${l.table} (id, ${l.parent}, ${l.label}, created_at) VALUES (?, ?, ?, ?)`,
        ),
      };
    }
    this.levelStmts = levelStmts;
  }

  /**
   * Runs `fn` in a transaction; nested calls become savepoints, so an inner failure undoes only itself.
   * IMMEDIATE takes the write lock up front: a read lock upgraded later can fail at once under WAL.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Finds the home at this address, creating any missing level by name. A community is identified by
   * region and name; without a region, a name that exists in exactly one region means that community.
   */
  ensureHome(address: HomeAddress): HomePath {
    return this.transaction(() => {
      const communityId = this.ensureCommunity(address.community, address.region || undefined);
      const compoundId = this.ensureLevel('compound', communityId, address.compound);
      const buildingId = this.ensureLevel('building', compoundId, address.building);
      const homeId = this.ensureLevel('home', buildingId, address.home);
      if (address.communityTimeZone !== undefined)
        this.setCommunityTimeZone(communityId, address.communityTimeZone);
      if (address.timeZone !== undefined) this.setHomeTimeZone(homeId, address.timeZone);
      return this.homePath(homeId)!;
    });
  }

  homePath(homeId: string): HomePath | undefined {
    return this.stmt.homePath.get(homeId);
  }

  /** A home's own time zone (a validated IANA name), or null to follow its community's. */
  setHomeTimeZone(homeId: string, timeZone: string | null): void {
    if (this.stmt.homeTimeZone.run(timeZone, homeId).changes === 0)
      throw new RegistryError('unknown_home', `no home with id ${homeId}`);
  }

  /** A community's time zone (a validated IANA name), or null to follow the rules' default. */
  setCommunityTimeZone(communityId: string, timeZone: string | null): void {
    if (this.stmt.communityTimeZone.run(timeZone, communityId).changes === 0)
      throw new RegistryError('unknown_community', `no community with id ${communityId}`);
  }

  private ensureCommunity(name: string, region: string | undefined): string {
    if (region === undefined) {
      const found = this.stmt.communitiesByName.all(name);
      if (found.length === 1) return found[0]!.id;
      if (found.length > 1) {
        throw new RegistryError(
          'ambiguous_community',
          `community "${name}" exists in several regions (${found.map((c) => c.region || '(none)').join(', ')}); give its region`,
        );
      }
    } else {
      const found = this.stmt.communityByRegionName.get(region, name);
      if (found) return found.id;
    }
    const id = newId('cm');
    this.stmt.insertCommunity.run(id, name, region ?? '', this.now());
    return id;
  }

  private ensureLevel(level: Level, parentId: string, name: string): string {
    const { find, insert } = this.levelStmts[level];
    const found = find.get(parentId, name) as string | undefined;
    if (found !== undefined) return found;
    const id = newId(LEVELS[level].prefix);
    insert.run(id, parentId, name, this.now());
    return id;
  }

  findResidentId(homeId: string, name: string): string | undefined {
    return this.stmt.residentIdByName.get(homeId, name)?.id;
  }

  insertResident(home: HomePath, fields: ResidentFields): string {
    const existing = this.findResidentId(home.homeId, fields.name);
    if (existing !== undefined) {
      throw new RegistryError(
        'duplicate_resident',
        `${fields.name} is already registered at ${formatHomePath(home)} (${existing})`,
      );
    }
    const id = newId('rs');
    this.stmt.insertResident.run({
      id,
      homeId: home.homeId,
      createdAt: this.now(),
      ...residentColumns(fields),
    });
    return id;
  }

  updateResident(id: string, fields: ResidentFields): void {
    this.stmt.updateResident.run({ id, ...residentColumns(fields) });
  }

  getResident(id: string): Resident | undefined {
    const row = this.stmt.residentById.get(id);
    return row && toResident(row);
  }

  listResidents(filter: ResidentFilter): Resident[] {
    return this.stmt.listResidents
      .all({ communityId: filter.communityId ?? null, homeId: filter.homeId ?? null })
      .map(toResident);
  }

  insertContact(contact: ValidContact): Contact {
    this.requireResidentHome(contact.residentId);
    const id = newId('ct');
    this.stmt.insertContact.run({
      id,
      residentId: contact.residentId,
      name: contact.name,
      relation: contact.relation,
      phone: contact.phone ?? null,
      email: contact.email ?? null,
      channels: JSON.stringify(contact.channels),
      escalationOrder: contact.escalationOrder,
      createdAt: this.now(),
    });
    return this.contactsOf(contact.residentId).find((c) => c.id === id)!;
  }

  contactsOf(residentId: string): Contact[] {
    return this.stmt.contactsOf.all(residentId).map(toContact);
  }

  private requireResidentHome(residentId: string): string {
    const row = this.stmt.residentHome.get(residentId);
    if (!row) throw new RegistryError('unknown_resident', `no resident with id ${residentId}`);
    return row.home_id;
  }

  /** The home a device goes into: its resident's home, which must agree with an explicit home. */
  deviceHome(device: ValidDevice): string {
    if (device.residentId !== undefined) {
      const homeId = this.requireResidentHome(device.residentId);
      if (device.homeId !== undefined && device.homeId !== homeId) {
        throw new RegistryError(
          'invalid_input',
          `resident ${device.residentId} lives in home ${homeId}, not ${device.homeId}`,
        );
      }
      return homeId;
    }
    const homeId = device.homeId!;
    if (!this.homePath(homeId)) throw new RegistryError('unknown_home', `no home with id ${homeId}`);
    return homeId;
  }

  insertDevice(device: ValidDevice, secretHash: string): Device {
    const homeId = this.deviceHome(device);
    const existing = this.stmt.deviceById.get(device.id);
    if (existing) {
      const state = existing.revoked_at === null ? '' : ' (revoked; device ids are never reused)';
      throw new RegistryError('duplicate_device', `device ${device.id} is already registered${state}`);
    }
    this.stmt.insertDevice.run({
      id: device.id,
      kind: device.kind,
      homeId,
      residentId: device.residentId ?? null,
      room: device.room ?? null,
      vendor: device.vendor ?? null,
      model: device.model ?? null,
      secretHash,
      createdAt: this.now(),
    });
    return this.getDevice(device.id)!;
  }

  getDevice(id: string): Device | undefined {
    const row = this.stmt.deviceById.get(id);
    return row && toDevice(row);
  }

  listDevices(filter: DeviceFilter): Device[] {
    return this.stmt.listDevices
      .all({ residentId: filter.residentId ?? null, homeId: filter.homeId ?? null })
      .map(toDevice);
  }

  /** What the gateway checks on connect; read from SQLite each time so a revocation is seen at once. */
  gatewayDevice(id: string): GatewayDevice | undefined {
    const row = this.stmt.deviceById.get(id);
    if (!row) return undefined;
    return {
      id: row.id,
      kind: row.kind,
      secretHash: row.secret_hash,
      revoked: row.revoked_at !== null,
      residentId: row.resident_id,
      homeId: row.home_id,
    };
  }

  revokedDeviceIds(): string[] {
    return this.stmt.revokedIds.all().map((row) => row.id);
  }

  /** Revokes a device; revoking again keeps the first revocation time. */
  revokeDevice(id: string, at: number): Device {
    if (this.stmt.revokeDevice.run(at, id).changes === 0) {
      throw new RegistryError('unknown_device', `no device with id ${id}`);
    }
    return this.getDevice(id)!;
  }

  markOnline(id: string, at: number): void {
    this.stmt.markOnline.run({ id, at });
  }

  markOffline(id: string): void {
    this.stmt.markOffline.run(id);
  }

  /** Writes buffered last-seen times in one transaction; a time never moves backwards. */
  writeLastSeen(entries: Iterable<[string, number]>): void {
    this.transaction(() => {
      for (const [id, at] of entries) this.stmt.lastSeen.run({ id, at });
    });
  }
}

function residentColumns(fields: ResidentFields) {
  return {
    name: fields.name,
    livesAlone: fields.livesAlone ? 1 : 0,
    birthYear: fields.birthYear ?? null,
    conditions: JSON.stringify(fields.conditions),
    language: fields.language,
    routineNotes: fields.routineNotes ?? null,
  };
}
