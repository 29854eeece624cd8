import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { registryPath } from './db.ts';
import { Registry, RegistryError, type ResidentInput } from './index.ts';
import { verifySecret } from './secrets.ts';
import { useTempDirs } from './test-dir.ts';

const tempDir = useTempDirs();

const wang: ResidentInput = {
  name: '王秀英',
  birthYear: 1942,
  livesAlone: true,
  conditions: ['高血压'],
  address: {
    region: '浙江省/嘉兴市/南湖区/新嘉街道',
    community: '梅花社区',
    compound: '一区',
    building: '3幢',
    home: '2-301',
  },
};

function open(dir = tempDir(), options: Parameters<typeof Registry.open>[1] = {}) {
  return Registry.open(dir, { flushEveryMs: 0, ...options });
}

/** Reads a device row through a separate connection, as another process would. */
function readDeviceRow(dir: string, id: string) {
  const db = new Database(registryPath(dir), { readonly: true });
  try {
    return db.prepare('SELECT last_seen, online, revoked_at FROM devices WHERE id = ?').get(id) as
      { last_seen: number | null; online: number; revoked_at: number | null } | undefined;
  } finally {
    db.close();
  }
}

function expectCode(fn: () => unknown, code: string) {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RegistryError);
  expect((caught as RegistryError).code).toBe(code);
}

describe('residents', () => {
  it('creates the community, compound, building and home on demand and reuses them by name', () => {
    const registry = open();
    const first = registry.addResident(wang);
    const neighbour = registry.addResident({
      ...wang,
      name: '李明',
      address: { ...wang.address, home: '2-302' },
    });
    expect(first.home).toMatchObject({
      region: '浙江省/嘉兴市/南湖区/新嘉街道',
      community: '梅花社区',
      home: '2-301',
    });
    expect(neighbour.home.buildingId).toBe(first.home.buildingId);
    expect(neighbour.home.homeId).not.toBe(first.home.homeId);
    expect(registry.listResidents().map((r) => r.name)).toEqual(['王秀英', '李明']);
    expect(registry.listResidents({ homeId: first.home.homeId }).map((r) => r.name)).toEqual(['王秀英']);
    registry.close();
  });

  it('finds a community by name alone when it exists in one region, and asks for the region when in several', () => {
    const registry = open();
    const withRegion = registry.addResident(wang);
    const { region: _region, ...addressWithoutRegion } = wang.address;
    const sameCommunity = registry.addResident({ ...wang, name: '张三', address: addressWithoutRegion });
    expect(sameCommunity.home.communityId).toBe(withRegion.home.communityId);

    registry.addResident({ ...wang, address: { ...wang.address, region: '上海市/黄浦区' } });
    expectCode(
      () => registry.addResident({ ...wang, name: '赵四', address: addressWithoutRegion }),
      'ambiguous_community',
    );
    registry.close();
  });

  it('keeps every field of a resident', () => {
    const registry = open();
    const added = registry.addResident({ ...wang, language: 'en', routineNotes: 'walks at 7' });
    expect(registry.getResident(added.id)).toMatchObject({
      name: '王秀英',
      birthYear: 1942,
      livesAlone: true,
      conditions: ['高血压'],
      language: 'en',
      routineNotes: 'walks at 7',
      contacts: [],
    });
    registry.close();
  });

  it('refuses the same name twice in one home, and invalid input, with stable codes', () => {
    const registry = open();
    registry.addResident(wang);
    expectCode(() => registry.addResident(wang), 'duplicate_resident');
    expectCode(() => registry.addResident({ ...wang, birthYear: 1800 }), 'invalid_input');
    expectCode(
      () => registry.addResident({ ...wang, address: { ...wang.address, home: ' ' } }),
      'invalid_input',
    );
    expect(registry.listResidents()).toHaveLength(1);
    registry.close();
  });

  it('lists contacts in escalation order and checks their channels', () => {
    const registry = open();
    const resident = registry.addResident(wang);
    registry.addContact({
      residentId: resident.id,
      name: '网格员 陈',
      relation: 'grid_worker',
      phone: '13800000002',
      channels: ['sms'],
      escalationOrder: 2,
    });
    registry.addContact({
      residentId: resident.id,
      name: '女儿',
      relation: 'family',
      email: 'd@example.com',
      channels: ['email', 'app'],
    });
    expect(registry.getResident(resident.id)?.contacts.map((c) => [c.escalationOrder, c.name])).toEqual([
      [1, '女儿'],
      [2, '网格员 陈'],
    ]);
    expectCode(
      () =>
        registry.addContact({ residentId: resident.id, name: 'x', relation: 'family', channels: ['email'] }),
      'invalid_input',
    );
    expectCode(
      () => registry.addContact({ residentId: 'rs_nobody', name: 'x', relation: 'family' }),
      'unknown_resident',
    );
    registry.close();
  });
});

describe('devices', () => {
  it('returns a secret once and stores only its hash, which verifies it', async () => {
    const registry = open();
    const resident = registry.addResident(wang);
    const { device, secret } = await registry.addDevice({
      id: 'W-0001',
      kind: 'wearable',
      residentId: resident.id,
      room: 'bedroom',
    });
    expect(device).toMatchObject({
      id: 'W-0001',
      homeId: resident.home.homeId,
      residentId: resident.id,
      online: false,
    });
    const stored = registry.findDevice('W-0001')!;
    expect(stored.secretHash).not.toContain(secret);
    expect(await verifySecret(secret, stored.secretHash)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored.secretHash)).toBe(false);
    registry.close();
  });

  it('never writes the plain secret to the database files', async () => {
    const dir = tempDir();
    const registry = open(dir);
    const resident = registry.addResident(wang);
    const { secret } = await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    const bytes = () => Buffer.concat(readdirSync(dir).map((f) => readFileSync(path.join(dir, f))));
    // While open, the row lives in the WAL file; after close, in the main file. Check both states.
    for (const state of ['open', 'closed']) {
      if (state === 'closed') registry.close();
      const all = bytes();
      expect(all.includes('W-0001'), state).toBe(true);
      expect(all.includes('scrypt$'), state).toBe(true);
      expect(all.includes(secret), state).toBe(false);
    }
  });

  it('lists devices without their secret hashes', async () => {
    const registry = open();
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    await registry.addDevice({
      id: 'G-0001',
      kind: 'gas_sensor',
      homeId: resident.home.homeId,
      room: 'kitchen',
    });
    const devices = registry.listDevices();
    expect(devices.map((d) => d.id)).toEqual(['G-0001', 'W-0001']);
    expect(registry.listDevices({ residentId: resident.id }).map((d) => d.id)).toEqual(['W-0001']);
    for (const d of [...devices, registry.getDevice('W-0001')!]) {
      expect(JSON.stringify(d)).not.toMatch(/scrypt|secret/i);
    }
    registry.close();
  });

  it('refuses a duplicate id, a malformed id, an unknown resident or home, and a home its resident does not live in', async () => {
    const registry = open();
    const resident = registry.addResident(wang);
    const other = registry.addResident({
      ...wang,
      name: '李明',
      address: { ...wang.address, home: '1-101' },
    });
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (err: RegistryError) => err.code,
      );
    expect(
      await refusal(registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id })),
    ).toBe('duplicate_device');
    expect(await refusal(registry.addDevice({ id: 'a b', kind: 'wearable', residentId: resident.id }))).toBe(
      'invalid_input',
    );
    expect(
      await refusal(registry.addDevice({ id: 'W-0002', kind: 'watch' as never, residentId: resident.id })),
    ).toBe('invalid_input');
    expect(
      await refusal(registry.addDevice({ id: 'W-0002', kind: 'wearable', residentId: 'rs_nobody' })),
    ).toBe('unknown_resident');
    expect(await refusal(registry.addDevice({ id: 'W-0002', kind: 'wearable', homeId: 'hm_nowhere' }))).toBe(
      'unknown_home',
    );
    expect(await refusal(registry.addDevice({ id: 'W-0002', kind: 'wearable' }))).toBe('invalid_input');
    expect(
      await refusal(
        registry.addDevice({
          id: 'W-0002',
          kind: 'wearable',
          residentId: resident.id,
          homeId: other.home.homeId,
        }),
      ),
    ).toBe('invalid_input');
    expect(registry.listDevices().map((d) => d.id)).toEqual(['W-0001']);
    registry.close();
  });

  it('revokes a device, keeps the first revocation time, and does not give its id out again', async () => {
    let clock = 1_700_000_000_000;
    const registry = open(tempDir(), { now: () => clock });
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    expect(registry.revokeDevice('W-0001').revokedAt).toBe(clock);
    clock += 1000;
    expect(registry.revokeDevice('W-0001').revokedAt).toBe(clock - 1000);
    expect(registry.findDevice('W-0001')?.revoked).toBe(true);
    await expect(
      registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id }),
    ).rejects.toMatchObject({
      code: 'duplicate_device',
    });
    expectCode(() => registry.revokeDevice('nope'), 'unknown_device');
    registry.close();
  });
});

describe('the registry as the gateway DeviceDirectory', () => {
  it('sees a revocation made by another process on the next lookup', async () => {
    const dir = tempDir();
    const server = open(dir);
    const resident = server.addResident(wang);
    await server.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    expect(server.findDevice('W-0001')).toMatchObject({
      revoked: false,
      kind: 'wearable',
      residentId: resident.id,
      homeId: resident.home.homeId,
    });

    const cli = open(dir);
    cli.revokeDevice('W-0001');
    cli.close();
    expect(server.findDevice('W-0001')?.revoked).toBe(true);
    expect(server.findDevice('nobody')).toBeUndefined();
    server.close();
  });

  it('writes online and offline at once, and lastSeen never moves backwards', async () => {
    const dir = tempDir();
    const registry = open(dir);
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    registry.markOnline('W-0001', 2000);
    expect(readDeviceRow(dir, 'W-0001')).toMatchObject({ online: 1, last_seen: 2000 });
    registry.markOnline('W-0001', 1000);
    expect(readDeviceRow(dir, 'W-0001')).toMatchObject({ online: 1, last_seen: 2000 });
    registry.markOffline('W-0001', 3000);
    expect(readDeviceRow(dir, 'W-0001')).toMatchObject({ online: 0, last_seen: 2000 });
    registry.markOnline('unknown-device', 1); // the gateway may race a deletion: no throw
    registry.close();
  });

  it('buffers markSeen in memory and writes the latest time on flush()', async () => {
    const dir = tempDir();
    const registry = open(dir);
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    registry.markSeen('W-0001', 5000);
    registry.markSeen('W-0001', 7000);
    registry.markSeen('W-0001', 6000);
    expect(readDeviceRow(dir, 'W-0001')?.last_seen).toBeNull();
    expect(registry.getDevice('W-0001')?.lastSeen).toBe(7000); // this process sees its own buffer
    registry.flush();
    expect(readDeviceRow(dir, 'W-0001')?.last_seen).toBe(7000);
    registry.close();
  });

  it('writes a device seen again after a flush on the next flush', async () => {
    const dir = tempDir();
    const registry = open(dir);
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    registry.markSeen('W-0001', 5000);
    registry.flush();
    registry.markSeen('W-0001', 8000);
    registry.flush();
    expect(readDeviceRow(dir, 'W-0001')?.last_seen).toBe(8000);
    registry.close();
  });

  it('flushes markSeen on its timer and on close()', async () => {
    const dir = tempDir();
    const registry = open(dir, { flushEveryMs: 20 });
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    await registry.addDevice({ id: 'W-0002', kind: 'wearable', residentId: resident.id });
    registry.markSeen('W-0001', 5000);
    expect(readDeviceRow(dir, 'W-0001')?.last_seen).toBeNull();
    await expect
      .poll(() => readDeviceRow(dir, 'W-0001')?.last_seen, { timeout: 2000, interval: 10 })
      .toBe(5000);

    registry.markSeen('W-0002', 9000);
    registry.close();
    expect(readDeviceRow(dir, 'W-0002')?.last_seen).toBe(9000);
  });

  it('keeps buffered times when a timed flush fails, reports the error, and writes them later', async () => {
    const dir = tempDir();
    const errors: unknown[] = [];
    const registry = open(dir, {
      flushEveryMs: 10,
      busyTimeoutMs: 0,
      onFlushError: (err) => errors.push(err),
    });
    const resident = registry.addResident(wang);
    await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
    const blocker = new Database(registryPath(dir));
    blocker.exec('BEGIN IMMEDIATE'); // another process holds the write lock
    registry.markSeen('W-0001', 5000);
    await expect.poll(() => errors.length, { timeout: 2000, interval: 10 }).toBeGreaterThan(0);
    expect(String(errors[0])).toMatch(/locked|busy/i);
    blocker.exec('ROLLBACK');
    blocker.close();
    await expect
      .poll(() => readDeviceRow(dir, 'W-0001')?.last_seen, { timeout: 2000, interval: 10 })
      .toBe(5000);
    registry.close();
  });

  it("keeps a community's and a home's time zone, validated, canonical, and the home's first", async () => {
    const registry = open();
    const added = registry.addResident({
      ...wang,
      address: { ...wang.address, communityTimeZone: 'asia/shanghai' },
    });
    expect(added.home).toMatchObject({ timeZone: null, communityTimeZone: 'Asia/Shanghai' });
    expect(registry.timeZoneOf(added.id)).toBe('Asia/Shanghai');
    const home = registry.setHomeTimeZone(added.home.homeId, 'Europe/Berlin');
    expect(home).toMatchObject({ timeZone: 'Europe/Berlin', communityTimeZone: 'Asia/Shanghai' });
    expect(registry.timeZoneOf(added.id)).toBe('Europe/Berlin');
    expectCode(() => registry.setHomeTimeZone(added.home.homeId, 'Mars/Olympus_Mons'), 'invalid_input');
    expectCode(() => registry.setCommunityTimeZone('cm_nope', 'Asia/Tokyo'), 'unknown_community');
    expectCode(() => registry.setHomeTimeZone('hm_nope', 'Asia/Tokyo'), 'unknown_home');
    registry.setHomeTimeZone(added.home.homeId, null);
    registry.setCommunityTimeZone(added.home.communityId, null);
    expect(registry.timeZoneOf(added.id)).toBeUndefined();
    registry.close();
  });

  it('tells listeners when who lives in a home or its zone changed', async () => {
    const registry = open();
    let calls = 0;
    const stop = registry.onHomesChanged(() => calls++);
    const added = registry.addResident(wang);
    registry.setHomeTimeZone(added.home.homeId, 'Asia/Tokyo');
    stop();
    registry.addResident({ ...wang, name: '李建国' });
    expect(calls).toBe(2);
    registry.close();
  });
});
