// Where the engine learns whom a device watches over: the registry in a running Anju, or a small JSON
// devices file that makes a replay scenario self-contained.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEVICE_ID_PATTERN, DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import type { Registry } from '../registry/index.ts';
import type { DeviceContext, ResidentContext } from './engine.ts';

export interface RegistryContextOptions {
  /** How long a looked-up device is trusted before the registry is asked again. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Reads devices from the registry; a wearable watches its wearer, a home device every resident of its
 * home. Revoked devices watch nobody. Answers are cached (unknown devices too), so a flood of readings
 * from one device costs one query per ttl.
 */
export function registryContext(registry: Registry, options: RegistryContextOptions = {}): ResidentContext {
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { ctx: DeviceContext | undefined; until: number }>();
  return {
    device(deviceId) {
      const t = now();
      const hit = cache.get(deviceId);
      if (hit && hit.until > t) return hit.ctx;
      const device = registry.getDevice(deviceId);
      let ctx: DeviceContext | undefined;
      if (device && device.revokedAt === null) {
        const residentIds = device.residentId
          ? [device.residentId]
          : registry.listResidents({ homeId: device.homeId }).map((r) => r.id);
        ctx = {
          kind: device.kind,
          residentId: device.residentId,
          homeId: device.homeId,
          room: device.room,
          residentIds,
        };
      }
      cache.set(deviceId, { ctx, until: t + ttlMs });
      return ctx;
    },
    timeZone: (residentId) => registry.timeZoneOf(residentId),
    forgetHomes(homeIds) {
      // Unknown devices too: one may just have been registered in such a home.
      for (const [deviceId, hit] of cache) {
        if (hit.ctx === undefined || (hit.ctx.homeId !== null && homeIds.has(hit.ctx.homeId)))
          cache.delete(deviceId);
      }
    },
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
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new Error(`invalid devices file ${file}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
