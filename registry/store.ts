// The registry's SQL, the same on SQLite and PostgreSQL, taking inputs that are already validated.
// Registry (index.ts) and the roster importer compose these into their operations.
import type { GatewayDevice } from '../firmware-protocol/accepted.ts';
import type { DeviceKind } from '../firmware-protocol/index.ts';
import { containsPattern, containsSql, type Param, type Sql } from '../database/sql.ts';
import { RegistryError } from './errors.ts';
import { newId, type IdPrefix } from './ids.ts';
import type { z } from 'zod';
import type {
  Contact,
  ContactInput,
  Device,
  DeviceFilter,
  DeviceInput,
  DeviceQuery,
  HomeAddress,
  HomePath,
  Resident,
  ResidentFields,
  ResidentFilter,
  ResidentQuery,
} from './schemas.ts';

export type ValidContact = z.output<typeof ContactInput>;
export type ValidDevice = z.output<typeof DeviceInput>;
export type ValidResidentQuery = z.output<typeof ResidentQuery>;
export type ValidDeviceQuery = z.output<typeof DeviceQuery>;

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

// Aliases are quoted: PostgreSQL folds unquoted names to lower case.
const HOME_PATH_SELECT = `
  h.id AS "homeId", c.region AS region, c.id AS "communityId", c.name AS community,
  p.id AS "compoundId", p.name AS compound, b.id AS "buildingId", b.name AS building, h.label AS home,
  h.time_zone AS "timeZone", c.time_zone AS "communityTimeZone"
  FROM homes h
  JOIN buildings b ON b.id = h.building_id
  JOIN compounds p ON p.id = b.compound_id
  JOIN communities c ON c.id = p.community_id`;

const RESIDENT_SELECT = `SELECT r.*, ${HOME_PATH_SELECT} JOIN residents r ON r.home_id = h.id`;
const RESIDENT_ORDER = 'ORDER BY c.region, c.name, p.name, b.name, h.label, r.name';
/** RESIDENT_ORDER as a row value, for keyset pages (residentKey gives the same fields). */
const RESIDENT_ROW = '(c.region, c.name, p.name, b.name, h.label, r.name, r.id)';

/** A home's address fields a search looks in, besides names and ids. */
const ADDRESS_COLUMNS = ['h.label', 'b.name', 'p.name', 'c.name'];

/** Any of `columns` contains `text`, as SQL and its parameters. */
function anyContains(columns: readonly string[], text: string): [string, Param[]] {
  return [columns.map(containsSql).join(' OR '), columns.map(() => containsPattern(text))];
}

/** `?, ?, ...` for a list of values. */
function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** Query conditions and their parameters, built up in order. */
class Where {
  readonly parts: string[] = [];
  readonly params: Param[] = [];

  add(sql: string, ...params: Param[]): void {
    this.parts.push(sql);
    this.params.push(...params);
  }

  /** `column IN (...)`; an empty list matches nothing. */
  in(column: string, values: readonly string[]): void {
    if (values.length === 0) this.add('1 = 0');
    else this.add(`${column} IN (${marks(values)})`, ...values);
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

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

/** Keeps a time from moving backwards without SQLite's two-argument max(). */
const SEEN_CHUNK = 400;

export class RegistryStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /**
   * Runs `fn` in a transaction on a store bound to it; a nested call joins the outer transaction.
   * A write that changes who lives in a home or its zone also moves the change marker (home-watch.ts).
   */
  transaction<T>(fn: (store: RegistryStore) => Promise<T>): Promise<T> {
    return this.sql.transaction((tx) => fn(new RegistryStore(tx, this.now)));
  }

  /**
   * Runs `fn` under a savepoint inside an open transaction: a failure undoes only what `fn` wrote, and
   * (on PostgreSQL) leaves the transaction usable.
   */
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    await this.sql.exec('SAVEPOINT registry_row');
    try {
      const result = await fn();
      await this.sql.exec('RELEASE SAVEPOINT registry_row');
      return result;
    } catch (err) {
      await this.sql.exec('ROLLBACK TO SAVEPOINT registry_row');
      await this.sql.exec('RELEASE SAVEPOINT registry_row');
      throw err;
    }
  }

  /** Tells other processes watching homes (home-watch.ts) that residents or zones changed. */
  async homesChanged(): Promise<void> {
    await this.sql.run('UPDATE registry_changes SET homes = homes + 1');
  }

  /** The marker homesChanged moves; cheap to poll. */
  async homesVersion(): Promise<number> {
    const row = await this.sql.one<{ homes: number }>('SELECT homes FROM registry_changes');
    return row?.homes ?? 0;
  }

  /**
   * Finds the home at this address, creating any missing level by name. A community is identified by
   * region and name; without a region, a name that exists in exactly one region means that community.
   */
  ensureHome(address: HomeAddress): Promise<HomePath> {
    return this.transaction(async (store) => {
      const communityId = await store.ensureCommunity(address.community, address.region || undefined);
      const compoundId = await store.ensureLevel('compound', communityId, address.compound);
      const buildingId = await store.ensureLevel('building', compoundId, address.building);
      const homeId = await store.ensureLevel('home', buildingId, address.home);
      if (address.communityTimeZone !== undefined)
        await store.setCommunityTimeZone(communityId, address.communityTimeZone);
      if (address.timeZone !== undefined) await store.setHomeTimeZone(homeId, address.timeZone);
      return (await store.homePath(homeId))!;
    });
  }

  homePath(homeId: string): Promise<HomePath | undefined> {
    return this.sql.one<HomePath>(`SELECT ${HOME_PATH_SELECT} WHERE h.id = ?`, [homeId]);
  }

  listHomes(communityId: string): Promise<HomePath[]> {
    return this.sql.all<HomePath>(
      `SELECT ${HOME_PATH_SELECT} WHERE c.id = ? ORDER BY p.name, b.name, h.label`,
      [communityId],
    );
  }

  /** A home's own time zone (a validated IANA name), or null to follow its community's. */
  async setHomeTimeZone(homeId: string, timeZone: string | null): Promise<void> {
    const { changes } = await this.sql.run('UPDATE homes SET time_zone = ? WHERE id = ?', [timeZone, homeId]);
    if (changes === 0) throw new RegistryError('unknown_home', `no home with id ${homeId}`);
  }

  /** A community's time zone (a validated IANA name), or null to follow the rules' default. */
  async setCommunityTimeZone(communityId: string, timeZone: string | null): Promise<void> {
    const { changes } = await this.sql.run('UPDATE communities SET time_zone = ? WHERE id = ?', [
      timeZone,
      communityId,
    ]);
    if (changes === 0) throw new RegistryError('unknown_community', `no community with id ${communityId}`);
  }

  private async ensureCommunity(name: string, region: string | undefined): Promise<string> {
    if (region === undefined) {
      const found = await this.sql.all<{ id: string; region: string }>(
        'SELECT id, region FROM communities WHERE name = ? ORDER BY region',
        [name],
      );
      if (found.length === 1) return found[0]!.id;
      if (found.length > 1) {
        throw new RegistryError(
          'ambiguous_community',
          `community "${name}" exists in several regions (${found.map((c) => c.region || '(none)').join(', ')}); give its region`,
        );
      }
    }
    // ON CONFLICT: another process may create the same community at the same moment.
    await this.sql.run(
      `INSERT INTO communities (id, name, region, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (region, name) DO NOTHING`,
      [newId('cm'), name, region ?? '', this.now()],
    );
    const row = await this.sql.one<{ id: string }>(
      'SELECT id FROM communities WHERE region = ? AND name = ?',
      [region ?? '', name],
    );
    return row!.id;
  }

  private async ensureLevel(level: Level, parentId: string, name: string): Promise<string> {
    const l = LEVELS[level];
    const find = `SELECT id FROM ${l.table} WHERE ${l.parent} = ? AND ${l.label} = ?`;
    const found = await this.sql.one<{ id: string }>(find, [parentId, name]);
    if (found) return found.id;
    await this.sql.run(
      `INSERT INTO ${l.table} (id, ${l.parent}, ${l.label}, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (${l.parent}, ${l.label}) DO NOTHING`,
      [newId(l.prefix), parentId, name, this.now()],
    );
    return (await this.sql.one<{ id: string }>(find, [parentId, name]))!.id;
  }

  async findResidentId(homeId: string, name: string): Promise<string | undefined> {
    const row = await this.sql.one<{ id: string }>(
      'SELECT id FROM residents WHERE home_id = ? AND name = ?',
      [homeId, name],
    );
    return row?.id;
  }

  async insertResident(home: HomePath, fields: ResidentFields): Promise<string> {
    const duplicate = (existing: string) =>
      new RegistryError(
        'duplicate_resident',
        `${fields.name} is already registered at ${formatHomePath(home)} (${existing})`,
      );
    const existing = await this.findResidentId(home.homeId, fields.name);
    if (existing !== undefined) throw duplicate(existing);
    const id = newId('rs');
    const c = residentColumns(fields);
    const inserted = await this.sql.run(
      `INSERT INTO residents (id, home_id, name, lives_alone, birth_year, conditions, language, routine_notes, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (home_id, name) DO NOTHING`,
      [
        id,
        home.homeId,
        c.name,
        c.livesAlone,
        c.birthYear,
        c.conditions,
        c.language,
        c.routineNotes,
        this.now(),
      ],
    );
    // Another process registered the same person between the check and the insert.
    if (inserted.changes === 0) throw duplicate((await this.findResidentId(home.homeId, fields.name)) ?? '?');
    return id;
  }

  async updateResident(id: string, fields: ResidentFields): Promise<void> {
    const c = residentColumns(fields);
    await this.sql.run(
      `UPDATE residents SET lives_alone = ?, birth_year = ?, conditions = ?, language = ?, routine_notes = ?
       WHERE id = ?`,
      [c.livesAlone, c.birthYear, c.conditions, c.language, c.routineNotes, id],
    );
  }

  async getResident(id: string): Promise<Resident | undefined> {
    const row = await this.sql.one<ResidentWithPathRow>(`${RESIDENT_SELECT} WHERE r.id = ?`, [id]);
    return row && toResident(row);
  }

  async listResidents(filter: ResidentFilter): Promise<Resident[]> {
    const communityId = filter.communityId ?? null;
    const homeId = filter.homeId ?? null;
    const rows = await this.sql.all<ResidentWithPathRow>(
      `${RESIDENT_SELECT}
       WHERE (CAST(? AS TEXT) IS NULL OR c.id = ?) AND (CAST(? AS TEXT) IS NULL OR h.id = ?)
       ${RESIDENT_ORDER}`,
      [communityId, communityId, homeId, homeId],
    );
    return rows.map(toResident);
  }

  /** A page of residents in address order (ResidentQuery). */
  async findResidents(query: ValidResidentQuery): Promise<Resident[]> {
    const where = new Where();
    if (query.communityIds) where.in('c.id', query.communityIds);
    if (query.residentIds) where.in('r.id', query.residentIds);
    if (query.search !== undefined) {
      const [sql, params] = anyContains(['r.name', ...ADDRESS_COLUMNS], query.search);
      where.add(`(${sql})`, ...params);
    }
    if (query.after) where.add(`${RESIDENT_ROW} > (?, ?, ?, ?, ?, ?, ?)`, ...query.after);
    const rows = await this.sql.all<ResidentWithPathRow>(
      `${RESIDENT_SELECT} ${where.sql} ${RESIDENT_ORDER}, r.id LIMIT ?`,
      [...where.params, query.limit],
    );
    return rows.map(toResident);
  }

  async insertContact(contact: ValidContact): Promise<Contact> {
    await this.requireResidentHome(contact.residentId);
    const id = newId('ct');
    await this.sql.run(
      `INSERT INTO contacts (id, resident_id, name, relation, phone, email, channels, escalation_order, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        contact.residentId,
        contact.name,
        contact.relation,
        contact.phone ?? null,
        contact.email ?? null,
        JSON.stringify(contact.channels),
        contact.escalationOrder,
        this.now(),
      ],
    );
    return (await this.contactsOf(contact.residentId)).find((c) => c.id === id)!;
  }

  async contactsOf(residentId: string): Promise<Contact[]> {
    const rows = await this.sql.all<ContactRow>(
      'SELECT * FROM contacts WHERE resident_id = ? ORDER BY escalation_order, created_at, id',
      [residentId],
    );
    return rows.map(toContact);
  }

  private async requireResidentHome(residentId: string): Promise<string> {
    const row = await this.sql.one<{ home_id: string }>('SELECT home_id FROM residents WHERE id = ?', [
      residentId,
    ]);
    if (!row) throw new RegistryError('unknown_resident', `no resident with id ${residentId}`);
    return row.home_id;
  }

  /** The home a device goes into: its resident's home, which must agree with an explicit home. */
  async deviceHome(device: ValidDevice): Promise<string> {
    if (device.residentId !== undefined) {
      const homeId = await this.requireResidentHome(device.residentId);
      if (device.homeId !== undefined && device.homeId !== homeId) {
        throw new RegistryError(
          'invalid_input',
          `resident ${device.residentId} lives in home ${homeId}, not ${device.homeId}`,
        );
      }
      return homeId;
    }
    const homeId = device.homeId!;
    if (!(await this.homePath(homeId))) throw new RegistryError('unknown_home', `no home with id ${homeId}`);
    return homeId;
  }

  async insertDevice(device: ValidDevice, secretHash: string): Promise<Device> {
    const homeId = await this.deviceHome(device);
    const duplicate = (revoked: boolean) =>
      new RegistryError(
        'duplicate_device',
        `device ${device.id} is already registered${revoked ? ' (revoked; device ids are never reused)' : ''}`,
      );
    const existing = await this.deviceRow(device.id);
    if (existing) throw duplicate(existing.revoked_at !== null);
    const inserted = await this.sql.run(
      `INSERT INTO devices (id, kind, home_id, resident_id, room, vendor, model, secret_hash, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [
        device.id,
        device.kind,
        homeId,
        device.residentId ?? null,
        device.room ?? null,
        device.vendor ?? null,
        device.model ?? null,
        secretHash,
        this.now(),
      ],
    );
    if (inserted.changes === 0) throw duplicate(false); // registered by another process meanwhile
    return (await this.getDevice(device.id))!;
  }

  private deviceRow(id: string): Promise<DeviceRow | undefined> {
    return this.sql.one<DeviceRow>('SELECT * FROM devices WHERE id = ?', [id]);
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = await this.deviceRow(id);
    return row && toDevice(row);
  }

  async listDevices(filter: DeviceFilter): Promise<Device[]> {
    const residentId = filter.residentId ?? null;
    const homeId = filter.homeId ?? null;
    const rows = await this.sql.all<DeviceRow>(
      `SELECT * FROM devices
       WHERE (CAST(? AS TEXT) IS NULL OR resident_id = ?) AND (CAST(? AS TEXT) IS NULL OR home_id = ?)
       ORDER BY home_id, id`,
      [residentId, residentId, homeId, homeId],
    );
    return rows.map(toDevice);
  }

  /** A page of devices by id (DeviceQuery). */
  async findDevices(query: ValidDeviceQuery): Promise<Device[]> {
    const where = new Where();
    if (query.communityIds) where.in('c.id', query.communityIds);
    if (query.of) {
      const { residentIds, homeIds } = query.of;
      const either = [
        ...(residentIds.length ? [`d.resident_id IN (${marks(residentIds)})`] : []),
        ...(homeIds.length ? [`d.home_id IN (${marks(homeIds)})`] : []),
      ];
      where.add(either.length ? `(${either.join(' OR ')})` : '1 = 0', ...residentIds, ...homeIds);
    }
    if (query.search !== undefined) {
      const [fields, params] = anyContains(['d.id', ...ADDRESS_COLUMNS], query.search);
      // The wearer's name, or for a fixed device the name of anyone living in its home.
      where.add(
        `(${fields} OR EXISTS (SELECT 1 FROM residents r WHERE (r.id = d.resident_id
           OR (d.resident_id IS NULL AND r.home_id = d.home_id)) AND ${containsSql('r.name')}))`,
        ...params,
        containsPattern(query.search),
      );
    }
    if (query.after !== undefined) where.add('d.id > ?', query.after);
    const rows = await this.sql.all<DeviceRow>(
      `SELECT d.* FROM devices d
       JOIN homes h ON h.id = d.home_id
       JOIN buildings b ON b.id = h.building_id
       JOIN compounds p ON p.id = b.compound_id
       JOIN communities c ON c.id = p.community_id
       ${where.sql} ORDER BY d.id LIMIT ?`,
      [...where.params, query.limit],
    );
    return rows.map(toDevice);
  }

  /** What the gateway checks on connect; read each time so that a revocation is seen at once. */
  async gatewayDevice(id: string): Promise<GatewayDevice | undefined> {
    const row = await this.deviceRow(id);
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

  async revokedDeviceIds(): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>('SELECT id FROM devices WHERE revoked_at IS NOT NULL');
    return rows.map((row) => row.id);
  }

  /** Revokes a device; revoking again keeps the first revocation time. */
  async revokeDevice(id: string, at: number): Promise<Device> {
    const { changes } = await this.sql.run(
      'UPDATE devices SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?',
      [at, id],
    );
    if (changes === 0) throw new RegistryError('unknown_device', `no device with id ${id}`);
    return (await this.getDevice(id))!;
  }

  /** Writes buffered presence and last-seen times in one transaction; a time never moves backwards. */
  /**
   * Presence and last-seen times of many devices in a few statements (chunks of 400 rows): a statement
   * per device would hold the write lock (SQLite) or a pooled connection (PostgreSQL) for as many round
   * trips, and every other query of the registry, an SOS's resident lookup among them, would wait.
   */
  async writeSeen(
    presence: Iterable<[string, { online: boolean; at: number }]>,
    seen: Iterable<[string, number]>,
  ): Promise<void> {
    // One row per device: its presence if the gateway told one, and the latest time it was seen.
    const byId = new Map<string, [string, number | null, number | null]>();
    for (const [id, p] of presence) byId.set(id, [id, p.online ? 1 : 0, p.online ? p.at : null]);
    for (const [id, at] of seen) {
      const row = byId.get(id) ?? [id, null, null];
      if (row[2] === null || row[2] < at) row[2] = at;
      byId.set(id, row);
    }
    const rows = [...byId.values()];
    if (rows.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += SEEN_CHUNK) {
        const chunk = rows.slice(i, i + SEEN_CHUNK);
        // online NULL: a last-seen time only; at NULL: nothing to move last_seen to.
        await tx.run(
          `WITH v (id, online, at) AS (VALUES ${chunk.map(() => '(CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS BIGINT))').join(', ')})
           UPDATE devices SET
             online = COALESCE(v.online, devices.online),
             last_seen = CASE WHEN v.at IS NOT NULL
                               AND (devices.last_seen IS NULL OR devices.last_seen < v.at)
                          THEN v.at ELSE devices.last_seen END
           FROM v WHERE devices.id = v.id`,
          chunk.flat(),
        );
      }
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
