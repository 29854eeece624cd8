// The registry's behaviour on each backend (a SQLite file, a real PostgreSQL): the same operations give
// the same answers and refuse bad input with the same RegistryError codes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../database/migrations.ts';
import type { Database } from '../database/sql.ts';
import { verifySecret } from '../firmware-protocol/credentials.ts';
import { eachBackend } from '../test/backends.ts';
import { Registry, RegistryError, type RegistryOptions, type ResidentInput } from './index.ts';
import { REGISTRY_SCHEMA } from './migrations.ts';
import { watchHomes } from './home-watch.ts';

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

async function expectCode(fn: () => Promise<unknown>, code: string) {
  const caught = await fn().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(caught).toBeInstanceOf(RegistryError);
  expect((caught as RegistryError).code).toBe(code);
}

eachBackend('registry', (backend) => {
  let db: Database;

  async function open(options: RegistryOptions = {}) {
    db = await backend.fresh();
    await migrate(db, [REGISTRY_SCHEMA]);
    return new Registry(db, { flushEveryMs: 0, ...options });
  }

  /** Reads a device row through a separate connection, as another process would. */
  async function readDeviceRow(id: string) {
    const other = await backend.again();
    return other.one<{ last_seen: number | null; online: number; revoked_at: number | null }>(
      'SELECT last_seen, online, revoked_at FROM devices WHERE id = ?',
      [id],
    );
  }

  describe('residents', () => {
    it('creates the community, compound, building and home on demand and reuses them by name', async () => {
      const registry = await open();
      const first = await registry.addResident(wang);
      const neighbour = await registry.addResident({
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
      expect((await registry.listResidents()).map((r) => r.name)).toEqual(['王秀英', '李明']);
      expect((await registry.listResidents({ homeId: first.home.homeId })).map((r) => r.name)).toEqual([
        '王秀英',
      ]);
      await registry.close();
    });

    it('finds a community by name alone when it exists in one region, and asks for the region when in several', async () => {
      const registry = await open();
      const withRegion = await registry.addResident(wang);
      const { region: _region, ...addressWithoutRegion } = wang.address;
      const sameCommunity = await registry.addResident({
        ...wang,
        name: '张三',
        address: addressWithoutRegion,
      });
      expect(sameCommunity.home.communityId).toBe(withRegion.home.communityId);

      await registry.addResident({ ...wang, address: { ...wang.address, region: '上海市/黄浦区' } });
      await expectCode(
        () => registry.addResident({ ...wang, name: '赵四', address: addressWithoutRegion }),
        'ambiguous_community',
      );
      await registry.close();
    });

    it('keeps every field of a resident', async () => {
      const registry = await open();
      const added = await registry.addResident({ ...wang, language: 'en', routineNotes: 'walks at 7' });
      expect(await registry.getResident(added.id)).toMatchObject({
        name: '王秀英',
        birthYear: 1942,
        livesAlone: true,
        conditions: ['高血压'],
        language: 'en',
        routineNotes: 'walks at 7',
        contacts: [],
      });
      await registry.close();
    });

    it('refuses the same name twice in one home, and invalid input, with stable codes', async () => {
      const registry = await open();
      await registry.addResident(wang);
      await expectCode(() => registry.addResident(wang), 'duplicate_resident');
      await expectCode(() => registry.addResident({ ...wang, birthYear: 1800 }), 'invalid_input');
      await expectCode(
        () => registry.addResident({ ...wang, address: { ...wang.address, home: ' ' } }),
        'invalid_input',
      );
      expect(await registry.listResidents()).toHaveLength(1);
      await registry.close();
    });

    it('lists contacts in escalation order and checks their channels', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      await registry.addContact({
        residentId: resident.id,
        name: '网格员 陈',
        relation: 'grid_worker',
        phone: '13800000002',
        channels: ['sms'],
        escalationOrder: 2,
      });
      await registry.addContact({
        residentId: resident.id,
        name: '女儿',
        relation: 'family',
        email: 'd@example.com',
        channels: ['email', 'app'],
      });
      expect(
        (await registry.getResident(resident.id))?.contacts.map((c) => [c.escalationOrder, c.name]),
      ).toEqual([
        [1, '女儿'],
        [2, '网格员 陈'],
      ]);
      await expectCode(
        () =>
          registry.addContact({
            residentId: resident.id,
            name: 'x',
            relation: 'family',
            channels: ['email'],
          }),
        'invalid_input',
      );
      await expectCode(
        () => registry.addContact({ residentId: 'rs_nobody', name: 'x', relation: 'family' }),
        'unknown_resident',
      );
      await registry.close();
    });
  });

  describe('devices', () => {
    it('returns a secret once and stores only its hash, which verifies it', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
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
      const stored = (await registry.findDevice('W-0001'))!;
      expect(stored.secretHash).not.toContain(secret);
      expect(await verifySecret(secret, stored.secretHash)).toBe(true);
      expect(await verifySecret(`${secret}x`, stored.secretHash)).toBe(false);
      await registry.close();
    });

    it('never writes the plain secret to the database', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      const { secret } = await registry.addDevice({
        id: 'W-0001',
        kind: 'wearable',
        residentId: resident.id,
      });
      const rows = JSON.stringify(await (await backend.again()).all('SELECT * FROM devices'));
      expect(rows).toContain('W-0001');
      expect(rows).toContain('scrypt$');
      expect(rows).not.toContain(secret);
      if (backend.name === 'sqlite') {
        // While open, the row lives in the WAL file; after close, in the main file. Check both states.
        const dir = path.dirname(db.location);
        const bytes = () => Buffer.concat(readdirSync(dir).map((f) => readFileSync(path.join(dir, f))));
        for (const state of ['open', 'closed']) {
          if (state === 'closed') await db.close();
          expect(bytes().includes('W-0001'), state).toBe(true);
          expect(bytes().includes(secret), state).toBe(false);
        }
      }
      await registry.close();
    });

    it('lists devices without their secret hashes', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      await registry.addDevice({
        id: 'G-0001',
        kind: 'gas_sensor',
        homeId: resident.home.homeId,
        room: 'kitchen',
      });
      const devices = await registry.listDevices();
      expect(devices.map((d) => d.id)).toEqual(['G-0001', 'W-0001']);
      expect((await registry.listDevices({ residentId: resident.id })).map((d) => d.id)).toEqual(['W-0001']);
      for (const d of [...devices, (await registry.getDevice('W-0001'))!]) {
        expect(JSON.stringify(d)).not.toMatch(/scrypt|secret/i);
      }
      await registry.close();
    });

    it('refuses a duplicate id, a malformed id, an unknown resident or home, and a home its resident does not live in', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      const other = await registry.addResident({
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
      expect(
        await refusal(registry.addDevice({ id: 'a b', kind: 'wearable', residentId: resident.id })),
      ).toBe('invalid_input');
      expect(
        await refusal(registry.addDevice({ id: 'W-0002', kind: 'watch' as never, residentId: resident.id })),
      ).toBe('invalid_input');
      expect(
        await refusal(registry.addDevice({ id: 'W-0002', kind: 'wearable', residentId: 'rs_nobody' })),
      ).toBe('unknown_resident');
      expect(
        await refusal(registry.addDevice({ id: 'W-0002', kind: 'wearable', homeId: 'hm_nowhere' })),
      ).toBe('unknown_home');
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
      expect((await registry.listDevices()).map((d) => d.id)).toEqual(['W-0001']);
      await registry.close();
    });

    it('revokes a device, keeps the first revocation time, and does not give its id out again', async () => {
      let clock = 1_700_000_000_000;
      const registry = await open({ now: () => clock });
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      expect((await registry.revokeDevice('W-0001')).revokedAt).toBe(clock);
      clock += 1000;
      expect((await registry.revokeDevice('W-0001')).revokedAt).toBe(clock - 1000);
      expect((await registry.findDevice('W-0001'))?.revoked).toBe(true);
      await expect(
        registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id }),
      ).rejects.toMatchObject({
        code: 'duplicate_device',
      });
      await expectCode(() => registry.revokeDevice('nope'), 'unknown_device');
      await registry.close();
    });
  });

  describe('the registry as the gateway DeviceDirectory', () => {
    it('sees a revocation made by another process on the next lookup', async () => {
      const server = await open();
      const resident = await server.addResident(wang);
      await server.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      expect(await server.findDevice('W-0001')).toMatchObject({
        revoked: false,
        kind: 'wearable',
        residentId: resident.id,
        homeId: resident.home.homeId,
      });

      const cli = new Registry(await backend.again(), { flushEveryMs: 0 });
      await cli.revokeDevice('W-0001');
      await cli.close();
      expect((await server.findDevice('W-0001'))?.revoked).toBe(true);
      expect(await server.revokedIds()).toEqual(['W-0001']);
      expect(await server.findDevice('nobody')).toBeUndefined();
      await server.close();
    });

    it('writes online and offline at once, and lastSeen never moves backwards', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      registry.markOnline('W-0001', 2000);
      await registry.flush();
      expect(await readDeviceRow('W-0001')).toMatchObject({ online: 1, last_seen: 2000 });
      registry.markOnline('W-0001', 1000);
      await registry.flush();
      expect(await readDeviceRow('W-0001')).toMatchObject({ online: 1, last_seen: 2000 });
      registry.markOffline('W-0001', 3000);
      expect((await registry.getDevice('W-0001'))?.online).toBe(false); // its own change, at once
      await registry.flush();
      expect(await readDeviceRow('W-0001')).toMatchObject({ online: 0, last_seen: 2000 });
      registry.markOnline('unknown-device', 1); // the gateway may race a deletion: no throw
      await registry.close();
    });

    it('buffers markSeen in memory and writes the latest time on flush()', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      registry.markSeen('W-0001', 5000);
      registry.markSeen('W-0001', 7000);
      registry.markSeen('W-0001', 6000);
      expect((await readDeviceRow('W-0001'))?.last_seen).toBeNull();
      expect((await registry.getDevice('W-0001'))?.lastSeen).toBe(7000); // this process sees its own buffer
      await registry.flush();
      expect((await readDeviceRow('W-0001'))?.last_seen).toBe(7000);
      await registry.close();
    });

    it('writes a device seen again after a flush on the next flush', async () => {
      const registry = await open();
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      registry.markSeen('W-0001', 5000);
      await registry.flush();
      registry.markSeen('W-0001', 8000);
      await registry.flush();
      expect((await readDeviceRow('W-0001'))?.last_seen).toBe(8000);
      await registry.close();
    });

    it('flushes markSeen on its timer and on close()', async () => {
      const registry = await open({ flushEveryMs: 20 });
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      await registry.addDevice({ id: 'W-0002', kind: 'wearable', residentId: resident.id });
      registry.markSeen('W-0001', 5000);
      await expect
        .poll(async () => (await readDeviceRow('W-0001'))?.last_seen, { timeout: 2000, interval: 10 })
        .toBe(5000);

      registry.markSeen('W-0002', 9000);
      await registry.close();
      expect((await readDeviceRow('W-0002'))?.last_seen).toBe(9000);
    });

    it('keeps presence and times a write failed on, reports the failure, and writes them later', async () => {
      const errors: unknown[] = [];
      let flushed = 0;
      const registry = await open({ onFlushError: (err) => errors.push(err), onFlushed: () => flushed++ });
      const resident = await registry.addResident(wang);
      await registry.addDevice({ id: 'W-0001', kind: 'wearable', residentId: resident.id });
      // The storage refuses writes: the table is away (as good as a full disk or a lost server).
      const other = await backend.again();
      await other.exec('ALTER TABLE devices RENAME TO devices_away');
      registry.markSeen('W-0001', 5000);
      await expect(registry.flush()).rejects.toThrow(/devices/);
      registry.markOnline('W-0001', 6000); // written in the background: the failure is reported, not thrown
      await expect.poll(() => errors.length, { timeout: 2000, interval: 10 }).toBeGreaterThan(0);
      expect((await registry.getDevice('W-0001').catch(() => undefined)) ?? null).toBeNull();
      await other.exec('ALTER TABLE devices_away RENAME TO devices');
      await registry.flush();
      expect(await readDeviceRow('W-0001')).toMatchObject({ online: 1, last_seen: 6000 });
      expect(flushed).toBe(0);
      await registry.close();
    });

    it("keeps a community's and a home's time zone, validated, canonical, and the home's first", async () => {
      const registry = await open();
      const added = await registry.addResident({
        ...wang,
        address: { ...wang.address, communityTimeZone: 'asia/shanghai' },
      });
      expect(added.home).toMatchObject({ timeZone: null, communityTimeZone: 'Asia/Shanghai' });
      expect(await registry.timeZoneOf(added.id)).toBe('Asia/Shanghai');
      const home = await registry.setHomeTimeZone(added.home.homeId, 'Europe/Berlin');
      expect(home).toMatchObject({ timeZone: 'Europe/Berlin', communityTimeZone: 'Asia/Shanghai' });
      expect(await registry.timeZoneOf(added.id)).toBe('Europe/Berlin');
      await expectCode(
        () => registry.setHomeTimeZone(added.home.homeId, 'Mars/Olympus_Mons'),
        'invalid_input',
      );
      await expectCode(() => registry.setCommunityTimeZone('cm_nope', 'Asia/Tokyo'), 'unknown_community');
      await expectCode(() => registry.setHomeTimeZone('hm_nope', 'Asia/Tokyo'), 'unknown_home');
      await registry.setHomeTimeZone(added.home.homeId, null);
      await registry.setCommunityTimeZone(added.home.communityId, null);
      expect(await registry.timeZoneOf(added.id)).toBeUndefined();
      await registry.close();
    });

    it('tells listeners when who lives in a home or its zone changed', async () => {
      const registry = await open();
      let calls = 0;
      const stop = registry.onHomesChanged(() => calls++);
      const added = await registry.addResident(wang);
      await registry.setHomeTimeZone(added.home.homeId, 'Asia/Tokyo');
      stop();
      await registry.addResident({ ...wang, name: '李建国' });
      expect(calls).toBe(2);
      await registry.close();
    });
  });

  describe('changes other processes make', () => {
    it('are seen by watchHomes within a second: a resident, a zone, a device', async () => {
      const server = await open();
      const first = await server.addResident(wang);
      const seen: string[][] = [];
      const stop = watchHomes(server, (homes) => seen.push(homes), { everyMs: 50 });
      await new Promise((r) => setTimeout(r, 100)); // the first state is read

      const cli = new Registry(await backend.again(), { flushEveryMs: 0 });
      const second = await cli.addResident({
        ...wang,
        name: '李建国',
        address: { ...wang.address, home: '9-901' },
      });
      await expect.poll(() => seen.flat(), { timeout: 1000, interval: 20 }).toContain(second.home.homeId);
      await cli.setHomeTimeZone(first.home.homeId, 'Asia/Tokyo');
      await expect.poll(() => seen.flat(), { timeout: 1000, interval: 20 }).toContain(first.home.homeId);
      seen.length = 0;
      await cli.addDevice({ id: 'G-0001', kind: 'gas_sensor', homeId: second.home.homeId, room: 'kitchen' });
      await expect.poll(() => seen.flat(), { timeout: 1000, interval: 20 }).toEqual([second.home.homeId]);
      stop();
      await cli.close();
      await server.close();
    });

    it('make one community, compound, building and home when two processes add the same address at once', async () => {
      const a = await open();
      // SQLite: one connection per file and process (see database/sqlite.ts), so the second registry
      // shares it; its transactions serialise. PostgreSQL: a second pool, as another process has.
      const b = new Registry(backend.name === 'sqlite' ? db : await backend.again(), { flushEveryMs: 0 });
      const names = Array.from({ length: 8 }, (_, i) => `住户 ${i}`);
      const added = await Promise.all(
        names.map((name, i) => (i % 2 === 0 ? a : b).addResident({ ...wang, name })),
      );
      expect(new Set(added.map((r) => r.home.homeId)).size).toBe(1);
      expect((await a.listResidents()).map((r) => r.name).sort()).toEqual([...names].sort());
      await b.close();
      await a.close();
    });
  });

  describe('lists', () => {
    it('filter residents by community or home and devices by resident or home', async () => {
      const registry = await open();
      const one = await registry.addResident(wang);
      const two = await registry.addResident({
        ...wang,
        name: '李明',
        address: { ...wang.address, community: '兰花社区' },
      });
      await registry.addDevice({ id: 'W-1', kind: 'wearable', residentId: one.id });
      await registry.addDevice({ id: 'W-2', kind: 'wearable', residentId: two.id });
      await registry.addDevice({ id: 'G-2', kind: 'gas_sensor', homeId: two.home.homeId });
      const ids = (list: { id: string }[]) => list.map((x) => x.id);
      expect(ids(await registry.listResidents({ communityId: two.home.communityId }))).toEqual([two.id]);
      expect(ids(await registry.listResidents({ homeId: one.home.homeId }))).toEqual([one.id]);
      expect(ids(await registry.listDevices({ homeId: two.home.homeId }))).toEqual(['G-2', 'W-2']);
      expect(ids(await registry.listDevices({ residentId: one.id }))).toEqual(['W-1']);
      expect((await registry.listHomes(one.home.communityId)).map((h) => h.homeId)).toEqual([
        one.home.homeId,
      ]);
      expect(await registry.getResident('rs_nobody')).toBeUndefined();
      expect(await registry.getDevice('nobody')).toBeUndefined();
      expect(await registry.getHome('hm_nowhere')).toBeUndefined();
      await expectCode(() => registry.listResidents({ communityId: 42 as never }), 'invalid_input');
      await registry.close();
    });
  });

  describe('API tokens', () => {
    it('are created once in full, verified by their secret, revoked, and record their last use', async () => {
      let clock = 1_700_000_000_000;
      const registry = await open({ now: () => clock });
      const { token, record } = await registry.tokens.create('grafana');
      expect(record).toMatchObject({ name: 'grafana', role: 'admin', lastUsedAt: null, revokedAt: null });
      const rows = JSON.stringify(await (await backend.again()).all('SELECT * FROM api_tokens'));
      const secret = token.slice(`anju_${record.id}_`.length); // base64url: may itself hold '_'
      expect(secret).toHaveLength(43);
      expect(rows).not.toContain(secret);
      clock += 1000;
      expect(await registry.tokens.verify(token)).toMatchObject({ id: record.id });
      expect((await registry.tokens.get(record.id))?.lastUsedAt).toBe(clock);
      expect(await registry.tokens.verify(`${token.slice(0, -1)}x`)).toBeUndefined();
      expect(await registry.tokens.verify('not a token')).toBeUndefined();
      expect(await registry.tokens.revoke(record.id)).toBe(true);
      expect(await registry.tokens.revoke(record.id)).toBe(false);
      expect(await registry.tokens.verify(token)).toBeUndefined();
      expect((await registry.tokens.list()).map((t) => [t.name, t.revokedAt])).toEqual([['grafana', clock]]);
      await registry.close();
    });
  });
});
