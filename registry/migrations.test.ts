// Registry files written before each owner kept its own migrations (PRAGMA user_version 1-6) are adopted:
// they open through openDatabases with their data intact and every owner at its latest version.
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databaseStatus, openDatabases, REGISTRY_FILE } from '../cli/databases.ts';
import { openRegistry } from '../cli/open-registry.ts';
import { Registry, RegistryError } from './index.ts';
import { LEGACY_MIGRATIONS } from './legacy-migrations.ts';
import { useTempDirs } from './test-dir.ts';

const tempDir = useTempDirs();

/** A registry file as an Anju of that time left it: the old list up to `version`, with a community in it. */
function legacyRegistry(version: number): string {
  const dir = tempDir();
  const db = new Database(path.join(dir, REGISTRY_FILE));
  for (const m of LEGACY_MIGRATIONS.slice(0, version)) db.exec(m.sql!);
  db.pragma(`user_version = ${version}`);
  db.exec(`
    INSERT INTO communities (id, name, region, created_at) VALUES ('cm_1', '梅花社区', '', 1);
    INSERT INTO compounds (id, community_id, name, created_at) VALUES ('cp_1', 'cm_1', '一区', 1);
    INSERT INTO buildings (id, compound_id, name, created_at) VALUES ('bd_1', 'cp_1', '3幢', 1);
    INSERT INTO homes (id, building_id, label, created_at) VALUES ('hm_1', 'bd_1', '2-301', 1);
    INSERT INTO residents (id, home_id, name, lives_alone, conditions, language, created_at)
      VALUES ('rs_1', 'hm_1', '王秀英', 1, '["高血压"]', 'zh-CN', 1);
    INSERT INTO devices (id, kind, home_id, resident_id, secret_hash, last_seen, created_at)
      VALUES ('W-0001', 'wearable', 'hm_1', 'rs_1', 'scrypt$1$1$1$a$b', 5000, 1);
    INSERT INTO contacts (id, resident_id, name, relation, channels, escalation_order, created_at)
      VALUES ('ct_1', 'rs_1', '女儿', 'family', '["sms"]', 1, 1);
  `);
  if (version >= 2) {
    db.exec(`INSERT INTO api_tokens (id, name, role, secret_sha256, created_at)
             VALUES ('0123456789abcdef', 'grafana', 'admin', 'x', 1)`);
  }
  db.close();
  return dir;
}

describe('a registry file from before the per-owner migrations', () => {
  for (const version of [3, 6]) {
    it(`at old version ${version} opens with its data and every owner at its latest version`, async () => {
      const dir = legacyRegistry(version);
      const dbs = await openDatabases({ dataDir: dir });
      try {
        for (const s of await databaseStatus(dbs)) expect(s, s.owner).toMatchObject({ version: s.latest });
        const registry = new Registry(dbs.registry, { flushEveryMs: 0 });
        expect(await registry.getResident('rs_1')).toMatchObject({
          name: '王秀英',
          conditions: ['高血压'],
          contacts: [expect.objectContaining({ name: '女儿', channels: ['sms'] })],
          home: { community: '梅花社区', home: '2-301', timeZone: null },
        });
        expect(await registry.getDevice('W-0001')).toMatchObject({ residentId: 'rs_1', lastSeen: 5000 });
        expect((await registry.tokens.list()).map((t) => t.name)).toEqual(['grafana']);
        // Written through the new code: the columns and the change marker of later versions are there.
        await registry.setHomeTimeZone('hm_1', 'Asia/Shanghai');
        const added = await registry.addResident({
          name: '李明',
          address: { community: '梅花社区', compound: '一区', building: '3幢', home: '2-301' },
        });
        expect(added.home).toMatchObject({ homeId: 'hm_1', timeZone: 'Asia/Shanghai' });
        expect(await registry.homesVersion()).toBe(2);
        await registry.close();
      } finally {
        await dbs.close();
      }
      // Opened again: nothing is applied twice.
      const again = await openDatabases({ dataDir: dir });
      expect(await again.registry.all('SELECT id FROM residents ORDER BY id')).toHaveLength(2);
      await again.close();
    });
  }

  it('is refused when a newer Anju wrote it, and left as it was', async () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, REGISTRY_FILE));
    db.pragma('user_version = 999');
    db.close();
    await expect(openDatabases({ dataDir: dir })).rejects.toThrow(/newer/);
    const after = new Database(path.join(dir, REGISTRY_FILE), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(999);
    after.close();
  });
});

describe('opening the registry for a command', () => {
  it('refuses to create a registry when one must already exist', async () => {
    const dir = path.join(tempDir(), 'typo');
    await expect(openRegistry(dir, { mustExist: true })).rejects.toThrow(RegistryError);
  });
});
