// Device credentials for a simulated community. The sim registers its devices in an Anju registry once
// and keeps the secrets (shown only at registration) in a JSON file, so later runs, other machines and
// restarted demos connect with the same devices.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DEVICE_KINDS, ROOMS } from '../firmware-protocol/index.ts';
import type { Registry, Resident } from '../registry/index.ts';
import { devicesOfResident, type Community, type SimResident } from './community.ts';

export const DeviceCredentials = z.object({
  deviceId: z.string(),
  secret: z.string().min(1),
  kind: z.enum(DEVICE_KINDS),
  /** The simulator's name for the resident (`resident-3`), as scenarios use it. */
  resident: z.string(),
  residentId: z.string().optional(),
  homeId: z.string().optional(),
  room: z.enum(ROOMS).optional(),
});
export type DeviceCredentials = z.infer<typeof DeviceCredentials>;

export const CredentialsFile = z.object({
  version: z.literal(1),
  seed: z.number().int(),
  idPrefix: z.string(),
  devices: z.array(DeviceCredentials),
});
export type CredentialsFile = z.infer<typeof CredentialsFile>;

export function readCredentials(file: string): CredentialsFile | undefined {
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`credentials file ${file}: ${(err as Error).message}`);
  }
  const parsed = CredentialsFile.safeParse(data);
  if (!parsed.success)
    throw new Error(`credentials file ${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Written whole and renamed into place, readable by the owner only: it holds secrets. */
export function writeCredentials(file: string, creds: CredentialsFile): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function secretsOf(creds: CredentialsFile): Map<string, string> {
  return new Map(creds.devices.map((d) => [d.deviceId, d.secret]));
}

/** The community's devices that have no secret in `creds`. */
export function missingDevices(community: Community, creds: CredentialsFile | undefined): string[] {
  const have = new Set(creds?.devices.map((d) => d.deviceId));
  return community.devices.filter((d) => !have.has(d.id)).map((d) => d.id);
}

function sameHome(
  resident: Resident,
  r: { name: string; address: Omit<SimResident['address'], 'region'> },
): boolean {
  const a = r.address;
  return (
    resident.name === r.name &&
    resident.home.community === a.community &&
    resident.home.compound === a.compound &&
    resident.home.building === a.building &&
    resident.home.home === a.home
  );
}

/**
 * Registers what is missing of the community (residents and devices) and returns the credentials of all
 * its devices. Idempotent: devices already in `existing` are left alone, residents already registered are
 * reused. `save` is called after each resident, so secrets are never lost to a crash half-way.
 */
export async function registerCommunity(
  registry: Registry,
  community: Community,
  existing: CredentialsFile | undefined,
  save: (creds: CredentialsFile) => void = () => undefined,
): Promise<CredentialsFile> {
  if (existing && (existing.seed !== community.seed || existing.idPrefix !== community.idPrefix)) {
    throw new Error(
      `the credentials file was written for seed ${existing.seed} and id prefix "${existing.idPrefix}"; ` +
        'use those, or another --id-prefix with another credentials file',
    );
  }
  const creds: CredentialsFile = existing ?? {
    version: 1,
    seed: community.seed,
    idPrefix: community.idPrefix,
    devices: [],
  };
  const have = new Set(creds.devices.map((d) => d.deviceId));
  let registered: Resident[] | undefined;
  for (const r of community.residents) {
    const devices = devicesOfResident(community, r.key).filter((d) => !have.has(d.id));
    if (devices.length === 0) continue;
    registered ??= await registry.listResidents();
    const resident =
      registered.find((x) => sameHome(x, r)) ??
      (await registry.addResident({
        name: r.name,
        birthYear: r.birthYear,
        livesAlone: true,
        conditions: r.conditions,
        address: r.address,
      }));
    for (const d of devices) {
      if (await registry.getDevice(d.id)) {
        throw new Error(
          `device ${d.id} is registered but its secret is not in the credentials file (secrets are shown only ` +
            'once); use another --id-prefix, or a fresh data directory',
        );
      }
      const wearer = d.kind === 'wearable';
      const { device, secret } = await registry.addDevice({
        id: d.id,
        kind: d.kind,
        ...(wearer ? { residentId: resident.id } : { homeId: resident.home.homeId, room: d.room }),
        vendor: 'Anju simulator',
        model: d.role,
      });
      creds.devices.push({
        deviceId: device.id,
        secret,
        kind: device.kind,
        resident: r.key,
        residentId: device.residentId ?? undefined,
        homeId: device.homeId,
        room: device.room ?? undefined,
      });
    }
    save(creds);
  }
  return creds;
}

/** Devices a load run connects as: `<prefix>-00001`... (wearables), a hundred to a home. */
export async function registerLoadDevices(
  registry: Registry,
  count: number,
  idPrefix: string,
  existing: CredentialsFile | undefined,
  save: (creds: CredentialsFile) => void = () => undefined,
): Promise<CredentialsFile> {
  const creds: CredentialsFile = existing ?? { version: 1, seed: 0, idPrefix, devices: [] };
  const have = new Set(creds.devices.map((d) => d.deviceId));
  const registered = await registry.listResidents();
  for (let home = 0; home * 100 < count; home++) {
    const ids = Array.from(
      { length: Math.min(100, count - home * 100) },
      (_, i) => `${idPrefix}-${String(home * 100 + i + 1).padStart(5, '0')}`,
    );
    const missing = ids.filter((id) => !have.has(id));
    if (missing.length === 0) continue;
    const person = {
      name: `负载测试 ${home + 1}`,
      address: { community: 'Load test', compound: 'L', building: String(home + 1), home: '1' },
    };
    const resident =
      registered.find((x) => sameHome(x, person)) ??
      (await registry.addResident({ ...person, livesAlone: true }));
    for (const id of missing) {
      if (await registry.getDevice(id)) {
        throw new Error(
          `device ${id} is registered but its secret is not in the credentials file; use another --id-prefix`,
        );
      }
      const { device, secret } = await registry.addDevice({
        id,
        kind: 'wearable',
        residentId: resident.id,
        vendor: 'Anju load test',
      });
      creds.devices.push({
        deviceId: id,
        secret,
        kind: 'wearable',
        resident: `load-${home + 1}`,
        residentId: resident.id,
        homeId: device.homeId,
      });
    }
    save(creds);
  }
  return creds;
}
