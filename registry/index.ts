// The registry: who lives where, which devices they have, and whom to call. One SQLite file shared by
// the server and the CLI. It is the gateway's DeviceDirectory.
import type { Database } from 'better-sqlite3';
import type { WriteReporter } from '../ops/write-health.ts';
import type { DeviceDirectory, GatewayDevice } from '../gateway/ports.ts';
import { openRegistryDb } from './db.ts';
import { validate } from './errors.ts';
import { importRoster, parseRoster, type ImportReport, type RosterFormat } from './roster.ts';
import {
  ContactInput,
  DeviceFilter,
  TimeZone,
  DeviceInput,
  ResidentFilter,
  ResidentInput,
  type Contact,
  type Device,
  type HomePath,
  type Resident,
  type ResidentDetail,
} from './schemas.ts';
import { generateSecret, hashSecret } from './secrets.ts';
import { SeenBuffer } from './seen-buffer.ts';
import { RegistryStore } from './store.ts';
import { TokenStore } from './tokens.ts';

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
  /** Refuse to create a registry that does not exist yet (read-only commands). */
  mustExist?: boolean;
  /** How long a write waits for another process's lock; SQLite blocks the event loop meanwhile. */
  busyTimeoutMs?: number;
  /** Called when a timed last-seen flush fails; the times are kept and retried on the next flush. */
  onFlushError?: (err: unknown) => void;
  /** Called after a timed last-seen flush wrote (or had nothing to write): storage works. */
  onFlushed?: () => void;
  /** Told whether API tokens' last use could be recorded (a full disk); the tokens work either way. */
  tokenUseWrites?: WriteReporter;
}

export const DEFAULT_FLUSH_EVERY_MS = 5000;

export class Registry implements DeviceDirectory {
  private readonly store: RegistryStore;
  /** API bearer tokens for the HTTP API. */
  readonly tokens: TokenStore;
  private readonly seen = new SeenBuffer();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly homeListeners = new Set<() => void>();

  private constructor(
    private readonly db: Database,
    options: RegistryOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.store = new RegistryStore(db, this.now);
    this.tokens = new TokenStore(db, this.now, options.tokenUseWrites);
    const every = options.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS;
    if (every > 0) {
      const onError =
        options.onFlushError ?? ((err) => process.emitWarning(`registry: last-seen flush failed: ${err}`));
      this.timer = setInterval(() => {
        try {
          this.flush();
          options.onFlushed?.();
        } catch (err) {
          onError(err);
        }
      }, every);
      this.timer.unref();
    }
  }

  /** Opens (creating and migrating as needed) `<dataDir>/registry.db`. */
  static open(dataDir: string, options: RegistryOptions = {}): Registry {
    return new Registry(
      openRegistryDb(dataDir, { mustExist: options.mustExist, busyTimeoutMs: options.busyTimeoutMs }),
      options,
    );
  }

  /** Opens the registry, runs `fn` and closes it again, also when `fn` fails. */
  static async use<T>(
    dataDir: string,
    options: RegistryOptions,
    fn: (registry: Registry) => T | Promise<T>,
  ): Promise<T> {
    const registry = Registry.open(dataDir, { flushEveryMs: 0, ...options });
    try {
      return await fn(registry);
    } finally {
      registry.close();
    }
  }

  // Residents and contacts.

  /** Adds a resident, creating the community, compound, building and home by name where missing. */
  addResident(input: ResidentInput): Resident {
    const { address, ...fields } = validate(ResidentInput, input);
    const id = this.store.transaction(() =>
      this.store.insertResident(this.store.ensureHome(address), fields),
    );
    this.homesChanged();
    return this.store.getResident(id)!;
  }

  getResident(id: string): ResidentDetail | undefined {
    const resident = this.store.getResident(id);
    return resident && { ...resident, contacts: this.store.contactsOf(id) };
  }

  listResidents(filter: ResidentFilter = {}): Resident[] {
    return this.store.listResidents(validate(ResidentFilter, filter));
  }

  /** Where a home is: its community, compound and building. */
  getHome(homeId: string): HomePath | undefined {
    return this.store.homePath(homeId);
  }

  /**
   * A home's own time zone (an IANA name), or null to follow its community's. Rules judge times of day
   * (night, sleep) in the zone of the resident's home.
   */
  setHomeTimeZone(homeId: string, timeZone: string | null): HomePath {
    const zone = timeZone === null ? null : validate(TimeZone, timeZone);
    this.store.setHomeTimeZone(homeId, zone);
    this.homesChanged();
    return this.store.homePath(homeId)!;
  }

  /** A community's time zone, followed by its homes without their own; null follows the rules' default. */
  setCommunityTimeZone(communityId: string, timeZone: string | null): void {
    const zone = timeZone === null ? null : validate(TimeZone, timeZone);
    this.store.setCommunityTimeZone(communityId, zone);
    this.homesChanged();
  }

  /** The zone of the resident's home: its own, else its community's; undefined when neither has one. */
  timeZoneOf(residentId: string): string | undefined {
    const home = this.store.getResident(residentId)?.home;
    return home?.timeZone ?? home?.communityTimeZone ?? undefined;
  }

  addContact(input: ContactInput): Contact {
    return this.store.insertContact(validate(ContactInput, input));
  }

  // Devices.

  /**
   * Registers a device under a fresh secret. Only the secret's hash is stored: the returned `secret` is
   * the one chance to hand it to the installer.
   */
  async addDevice(input: DeviceInput): Promise<{ device: Device; secret: string }> {
    const device = validate(DeviceInput, input);
    this.store.deviceHome(device); // fail fast on an unknown resident or home, before hashing
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    return { device: this.store.insertDevice(device, secretHash), secret };
  }

  getDevice(id: string): Device | undefined {
    const device = this.store.getDevice(id);
    return device && this.withPendingSeen(device);
  }

  listDevices(filter: DeviceFilter = {}): Device[] {
    return this.store.listDevices(validate(DeviceFilter, filter)).map((d) => this.withPendingSeen(d));
  }

  /** Revokes a device: its next connection is refused, by this process or any other on the same file. */
  revokeDevice(id: string): Device {
    return this.store.revokeDevice(id, this.now());
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
   * Called after this process changed who lives in a home (or a home's time zone); `watchHomes` adds the
   * changes other processes (the CLI) make to the same file.
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
        process.emitWarning(`registry: a home change listener failed: ${err}`);
      }
    }
  }

  // DeviceDirectory, for the gateway.

  findDevice(id: string): GatewayDevice | undefined {
    return this.store.gatewayDevice(id);
  }

  revokedIds(): string[] {
    return this.store.revokedDeviceIds();
  }

  markOnline(id: string, at: number): void {
    this.store.markOnline(id, at);
  }

  markOffline(id: string, _at: number): void {
    this.store.markOffline(id);
  }

  markSeen(id: string, at: number): void {
    this.seen.record(id, at);
  }

  /** Writes buffered last-seen times now. */
  flush(): void {
    this.seen.drain((entries) => this.store.writeLastSeen(entries));
  }

  /**
   * The registry's SQLite connection, for stores that keep their tables in the registry file (the
   * dashboard's accounts and sessions), so that their foreign keys reach residents and communities.
   */
  get database(): Database {
    return this.db;
  }

  /** Flushes and closes the database; safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }

  private withPendingSeen(device: Device): Device {
    const pending = this.seen.peek(device.id);
    return pending !== undefined && pending > (device.lastSeen ?? 0)
      ? { ...device, lastSeen: pending }
      : device;
  }
}
