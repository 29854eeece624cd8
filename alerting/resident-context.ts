// Where the engine learns whom a device watches over: the registry in a running Anju, or a small JSON
// devices file that makes a replay scenario self-contained.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues } from '../ops/config-file.ts';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import type { Registry, Resident } from '../registry/index.ts';
import type { DeviceContext, ResidentContext } from './engine.ts';
import { logErrors } from '../ops/fallback-log.ts';

export interface RegistryContextOptions {
  /** How soon a device unknown to the last load may ask for another (a burst of them asks once). */
  missReloadMs?: number;
  onError?: (err: unknown) => void;
}

/** A ResidentContext over the registry, answering from memory; `reload()` reads it afresh. */
export interface RegistryContext extends ResidentContext {
  /** Resolves when the first load is done (or failed, reported through onError). */
  ready: Promise<void>;
  reload(): Promise<void>;
  /** Whether the last load had this device (revoked ones included): an unknown one waits for a reload. */
  knows(deviceId: string): boolean;
  /** The resident as the last load read them (name, home, community), without asking the registry. */
  resident(residentId: string): Resident | undefined;
}

/**
 * The registry's devices, residents and zones, held in memory: the engine asks synchronously, once per
 * device, and the registry answers asynchronously (it may be PostgreSQL). A wearable watches its wearer,
 * a home device every resident of its home; revoked devices watch nobody. Loaded once, again whenever
 * watchHomes reports a change (runtime.ts), and, throttled, when a device nobody knew shows up.
 */
export function registryContext(registry: Registry, options: RegistryContextOptions = {}): RegistryContext {
  const missReloadMs = options.missReloadMs ?? 1000;
  const onError = options.onError ?? logErrors('alerting', 'registry not read');
  let devices = new Map<string, DeviceContext | undefined>();
  let zones = new Map<string, string>();
  let residentsById = new Map<string, Resident>();
  let loading: Promise<void> | undefined;
  let lastMissReload = -Infinity;
  const load = async () => {
    const [all, residents] = await Promise.all([registry.listDevices(), registry.listResidents()]);
    const byHome = new Map<string, string[]>();
    const nextZones = new Map<string, string>();
    for (const r of residents) {
      byHome.set(r.home.homeId, [...(byHome.get(r.home.homeId) ?? []), r.id]);
      const zone = r.home.timeZone ?? r.home.communityTimeZone;
      if (zone) nextZones.set(r.id, zone);
    }
    const next = new Map<string, DeviceContext | undefined>();
    for (const d of all) {
      next.set(
        d.id,
        d.revokedAt !== null
          ? undefined
          : {
              kind: d.kind,
              residentId: d.residentId,
              homeId: d.homeId,
              room: d.room,
              residentIds: d.residentId ? [d.residentId] : (byHome.get(d.homeId) ?? []),
            },
      );
    }
    devices = next;
    zones = nextZones;
    residentsById = new Map(residents.map((r) => [r.id, r]));
  };
  const reload = () => {
    // Loads run one after another, so that an older answer never replaces a newer one.
    const run = (loading ?? Promise.resolve()).then(load);
    loading = run.catch(() => undefined);
    return run;
  };
  return {
    ready: reload().catch(onError),
    reload,
    knows: (deviceId) => devices.has(deviceId),
    resident: (residentId) => residentsById.get(residentId),
    device(deviceId) {
      if (!devices.has(deviceId)) {
        const now = Date.now();
        if (now - lastMissReload >= missReloadMs) {
          lastMissReload = now;
          reload().catch(onError);
        }
      }
      return devices.get(deviceId);
    },
    timeZone: (residentId) => zones.get(residentId),
  };
}

export const DevicesFile = z.record(
  z.string().regex(DEVICE_ID_PATTERN, 'not a valid device id'),
  z
    .strictObject({
      kind: z.enum(DEVICE_KINDS),
      residentId: z.string().min(1).optional(),
      homeId: z.string().min(1).optional(),
      room: z.enum(ROOMS).optional(),
    })
    .refine((d) => d.residentId !== undefined || d.homeId !== undefined, {
      message: 'a device needs a residentId or a homeId',
    }),
);
export type DevicesFile = z.infer<typeof DevicesFile>;

/**
 * `{deviceId: {kind, residentId?, homeId?, room?}}`. A device with a residentId watches that resident; one
 * with only a homeId watches every resident named on a device of that home.
 */
export function devicesFileContext(devices: DevicesFile): ResidentContext {
  const residentsOfHome = new Map<string, string[]>();
  for (const d of Object.values(devices)) {
    if (d.homeId === undefined || d.residentId === undefined) continue;
    const list = residentsOfHome.get(d.homeId) ?? [];
    if (!list.includes(d.residentId)) list.push(d.residentId);
    residentsOfHome.set(d.homeId, list);
  }
  const contexts = new Map<string, DeviceContext>();
  for (const [id, d] of Object.entries(devices)) {
    contexts.set(id, {
      kind: d.kind,
      residentId: d.residentId ?? null,
      homeId: d.homeId ?? null,
      room: d.room ?? null,
      residentIds: d.residentId !== undefined ? [d.residentId] : (residentsOfHome.get(d.homeId!) ?? []),
    });
  }
  return { device: (id) => contexts.get(id) };
}

/** Reads and validates a devices file; the error lists every problem with its path. */
export function loadDevicesFile(file: string): DevicesFile {
  const text = readFileSync(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`);
  }
  const parsed = DevicesFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`invalid devices file ${file}:\n  ${formatIssues(parsed.error, '\n  ')}`);
  }
  return parsed.data;
}
