// The registry: who lives where, which devices they have, and whom to call, over the asynchronous
// Database handle (a SQLite file by default, or PostgreSQL shared by several Anju processes). It is the
// gateway's DeviceDirectory.
import type { Database } from '../database/sql.ts';
import type { GatewayDevice } from '../firmware-protocol/accepted.ts';
import { generateSecret, hashSecret } from '../firmware-protocol/credentials.ts';
import type { DeviceDirectory } from '../gateway/ports.ts';
import type { WriteReporter } from '../ops/write-health.ts';
import { validate } from './errors.ts';
import { importRoster, parseRoster, type ImportReport, type RosterFormat } from './roster.ts';
import {
  ContactInput,
  DeviceFilter,
  TimeZone,
  DeviceInput,
  DeviceQuery,
  ResidentFilter,
  ResidentQuery,
  ResidentInput,
  type Contact,
  type Device,
  type HomePath,
  type Resident,
  type ResidentDetail,
} from './schemas.ts';
import { SeenBuffer } from './seen-buffer.ts';
import { RegistryStore } from './store.ts';
import { TokenStore } from './tokens.ts';
import { logErrors } from '../ops/fallback-log.ts';

export { RegistryError, type RegistryErrorCode } from './errors.ts';
export { formatHomePath } from './store.ts';
export { watchHomes, type HomeWatchOptions } from './home-watch.ts';
export { ApiToken, TOKEN_ROLES } from './tokens.ts';
export type { ImportReport, RosterFormat, RowReport } from './roster.ts';
export * from './schemas.ts';

export interface RegistryOptions {
  /** Clock for created_at and revoked_at, Unix ms. */
  now?: () => number;
  /** How often buffered last-seen times are written; 0 writes them only on flush() and close(). */
  flushEveryMs?: number;
  /** Called when a presence or last-seen write fails; the times are kept and retried on the next flush. */
  onFlushError?: (err: unknown) => void;
  /** Called after a presence or last-seen write succeeded (or had nothing to write): storage works. */
  onFlushed?: () => void;
  /** Told whether API tokens' last use could be recorded (a full disk); the tokens work either way. */
  tokenUseWrites?: WriteReporter;
  /** Called by close() after the last flush: closes the database when the registry was its only user. */
  onClose?: () => Promise<void>;
}

export const DEFAULT_FLUSH_EVERY_MS = 5000;

interface Presence {
  online: boolean;
  at: number;
}

export class Registry implements DeviceDirectory {
  private readonly store: RegistryStore;
  /** API bearer tokens for the HTTP API. */
  readonly tokens: TokenStore;
  private readonly seen = new SeenBuffer();
  /** Presence not written yet: the latest state per device. */
  private readonly presence = new Map<string, Presence>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onFlushError: (err: unknown) => void;
  /** The flush under way, and whether another is wanted after it (writes are serialised). */
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private closed = false;
  private readonly homeListeners = new Set<() => void>();

  constructor(
    db: Database,
    private readonly options: RegistryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.store = new RegistryStore(db, this.now);
    this.tokens = new TokenStore(db, this.now, options.tokenUseWrites);
    this.onFlushError = options.onFlushError ?? logErrors('registry', 'last-seen flush failed');
    const every = options.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS;
    if (every > 0) {
      this.timer = setInterval(() => this.flushInBackground(), every);
      this.timer.unref();
    }
  }

  // Residents and contacts.

  /** Adds a resident, creating the community, compound, building and home by name where missing. */
  async addResident(input: ResidentInput): Promise<Resident> {
    const { address, ...fields } = validate(ResidentInput, input);
    const id = await this.store.transaction(async (store) => {
      const residentId = await store.insertResident(await store.ensureHome(address), fields);
      await store.homesChanged();
      return residentId;
    });
    this.homesChanged();
    return (await this.store.getResident(id))!;
  }

  async getResident(id: string): Promise<ResidentDetail | undefined> {
    // Both asked at once: on PostgreSQL, one round trip's wait instead of two.
    const [resident, contacts] = await Promise.all([this.store.getResident(id), this.store.contactsOf(id)]);
    return resident && { ...resident, contacts };
  }

  async listResidents(filter: ResidentFilter = {}): Promise<Resident[]> {
    return this.store.listResidents(validate(ResidentFilter, filter));
  }

  /** A page of residents in address order, inside a reach, maybe matching a search (ResidentQuery). */
  async findResidents(query: ResidentQuery): Promise<Resident[]> {
    return this.store.findResidents(validate(ResidentQuery, query));
  }

  /** Where a home is: its community, compound and building. */
  getHome(homeId: string): Promise<HomePath | undefined> {
    return this.store.homePath(homeId);
  }

  /** Every home of a community, residents or not. */
  listHomes(communityId: string): Promise<HomePath[]> {
    return this.store.listHomes(communityId);
  }

  /**
   * A home's own time zone (an IANA name), or null to follow its community's. Rules judge times of day
   * (night, sleep) in the zone of the resident's home.
   */
  async setHomeTimeZone(homeId: string, timeZone: string | null): Promise<HomePath> {
    const zone = timeZone === null ? null : validate(TimeZone, timeZone);
    const home = await this.store.transaction(async (store) => {
      await store.setHomeTimeZone(homeId, zone);
      await store.homesChanged();
      return (await store.homePath(homeId))!;
    });
    this.homesChanged();
    return home;
  }

  /** A community's time zone, followed by its homes without their own; null follows the rules' default. */
  async setCommunityTimeZone(communityId: string, timeZone: string | null): Promise<void> {
    const zone = timeZone === null ? null : validate(TimeZone, timeZone);
    await this.store.transaction(async (store) => {
      await store.setCommunityTimeZone(communityId, zone);
      await store.homesChanged();
    });
    this.homesChanged();
  }

  /** The zone of the resident's home: its own, else its community's; undefined when neither has one. */
  async timeZoneOf(residentId: string): Promise<string | undefined> {
    const home = (await this.store.getResident(residentId))?.home;
    return home?.timeZone ?? home?.communityTimeZone ?? undefined;
  }

  async addContact(input: ContactInput): Promise<Contact> {
    return this.store.insertContact(validate(ContactInput, input));
  }

  // Devices.

  /**
   * Registers a device under a fresh secret. Only the secret's hash is stored: the returned `secret` is
   * the one chance to hand it to the installer.
   */
  async addDevice(input: DeviceInput): Promise<{ device: Device; secret: string }> {
    const device = validate(DeviceInput, input);
    await this.store.deviceHome(device); // fail fast on an unknown resident or home, before hashing
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    const added = await this.store.transaction(async (store) => {
      const inserted = await store.insertDevice(device, secretHash);
      await store.homesChanged();
      return inserted;
    });
    this.homesChanged();
    return { device: added, secret };
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const device = await this.store.getDevice(id);
    return device && this.withPending(device);
  }

  async listDevices(filter: DeviceFilter = {}): Promise<Device[]> {
    const devices = await this.store.listDevices(validate(DeviceFilter, filter));
    return devices.map((d) => this.withPending(d));
  }

  /** A page of devices by id, inside a reach, maybe matching a search (DeviceQuery). */
  async findDevices(query: DeviceQuery): Promise<Device[]> {
    const devices = await this.store.findDevices(validate(DeviceQuery, query));
    return devices.map((d) => this.withPending(d));
  }

  /** Revokes a device: its next connection is refused, by this process or any other on the same database. */
  async revokeDevice(id: string): Promise<Device> {
    const device = await this.store.transaction(async (store) => {
      const revoked = await store.revokeDevice(id, this.now());
      await store.homesChanged();
      return revoked;
    });
    this.homesChanged();
    return device;
  }

  // Roster import.

  /** Imports a roster file's text row by row; refused rows are reported and the rest still imported. */
  async importRoster(
    text: string,
    options: { format: RosterFormat; dryRun?: boolean },
  ): Promise<ImportReport> {
    const records = parseRoster(text, options.format);
    const report = await importRoster(this.store, records, {
      format: options.format,
      dryRun: options.dryRun ?? false,
    });
    if (!report.dryRun && report.summary.imported > 0) this.homesChanged();
    return report;
  }

  // Changes that rules must follow at once.

  /**
   * Called after this process changed who lives in a home, a zone or a device; `watchHomes` adds the
   * changes other processes (the CLI) make to the same database.
   */
  onHomesChanged(listener: () => void): () => void {
    this.homeListeners.add(listener);
    return () => this.homeListeners.delete(listener);
  }

  private homesChanged(): void {
    for (const listener of this.homeListeners) {
      try {
        listener();
      } catch (err) {
        // The write is done; a listener's failure must not make it look failed.
        logErrors('registry', 'a home change listener failed')(err);
      }
    }
  }

  /** The change marker every process moves when residents, zones or devices change (home-watch.ts). */
  homesVersion(): Promise<number> {
    return this.store.homesVersion();
  }

  // DeviceDirectory, for the gateway.

  findDevice(id: string): Promise<GatewayDevice | undefined> {
    return this.store.gatewayDevice(id);
  }

  revokedIds(): Promise<string[]> {
    return this.store.revokedDeviceIds();
  }

  /** Written at once in the background; kept and retried with the next flush if the write fails. */
  markOnline(id: string, at: number): void {
    this.presence.set(id, { online: true, at });
    this.seen.record(id, at);
    this.flushInBackground();
  }

  markOffline(id: string, at: number): void {
    this.presence.set(id, { online: false, at });
    this.flushInBackground();
  }

  markSeen(id: string, at: number): void {
    this.seen.record(id, at);
  }

  /** Writes buffered presence and last-seen times now; rejects if the write fails (they are kept). */
  async flush(): Promise<void> {
    // Wait for a write under way (its failure is reported there), then write what is left.
    while (this.flushing) await this.flushing.catch(() => undefined);
    const run = this.writePending();
    this.flushing = run;
    try {
      await run;
    } finally {
      if (this.flushing === run) this.flushing = undefined;
    }
  }

  /** A flush nobody awaits (timer, presence): failures go to onFlushError, never to the caller. */
  private flushInBackground(): void {
    if (this.closed) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flush()
      .then(
        () => this.options.onFlushed?.(),
        (err: unknown) => this.onFlushError(err),
      )
      .finally(() => {
        if (this.flushAgain) {
          this.flushAgain = false;
          this.flushInBackground();
        }
      });
  }

  private async writePending(): Promise<void> {
    // Presence stays in the map (and so in what getDevice shows) until it is written; a newer state that
    // arrives meanwhile replaces the entry and is written by the next flush.
    const presence = [...this.presence];
    let wrote = false;
    await this.seen.drain(async (seen) => {
      await this.store.writeSeen(presence, seen);
      wrote = true;
    });
    // drain skips the write when no time is pending: presence alone is written here.
    if (!wrote && presence.length > 0) await this.store.writeSeen(presence, []);
    for (const [id, p] of presence) if (this.presence.get(id) === p) this.presence.delete(id);
  }

  /**
   * Stops the timer and writes what is buffered; the database stays open for its other users unless
   * `onClose` closes it. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      await this.options.onClose?.();
    }
  }

  private withPending(device: Device): Device {
    const seen = this.seen.peek(device.id);
    const presence = this.presence.get(device.id);
    let out = device;
    if (seen !== undefined && seen > (device.lastSeen ?? 0)) out = { ...out, lastSeen: seen };
    if (presence !== undefined) out = { ...out, online: presence.online };
    return out;
  }
}
