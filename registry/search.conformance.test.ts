// Searching and paging residents and devices, the same on SQLite and PostgreSQL: which rows a search
// matches (Chinese names, any letter case, % and _ taken literally), the reach that keeps a query inside
// what a caller may see, and keyset pages that neither repeat nor skip a row when rows are added meanwhile.
import { expect, it } from 'vitest';
import { migrate } from '../database/migrations.ts';
import { eachBackend } from '../test/backends.ts';
import { Registry, RegistryError, residentKey, type Resident, type ResidentInput } from './index.ts';
import { REGISTRY_SCHEMA } from './migrations.ts';

const address = {
  region: '浙江省/嘉兴市',
  community: '梅花社区',
  compound: '一区',
  building: '3幢',
  home: '2-301',
};

function person(name: string, home: string, community = '梅花社区'): ResidentInput {
  return { name, address: { ...address, community, home } };
}

const ids = (list: { id: string }[]) => list.map((x) => x.id);

eachBackend('registry search', (backend) => {
  async function open() {
    const db = await backend.fresh();
    await migrate(db, [REGISTRY_SCHEMA]);
    return new Registry(db, { flushEveryMs: 0 });
  }

  /** 王秀英 and Wang Li in 梅花社区 (Wang Li shares 2-302 with 李明), 张伟 in 兰花社区. */
  async function community(registry: Registry) {
    const wang = await registry.addResident(person('王秀英', '2-301'));
    const wangLi = await registry.addResident(person('Wang Li', '2-302'));
    const li = await registry.addResident(person('李明', '2-302'));
    const zhang = await registry.addResident(person('张伟', '5-101', '兰花社区'));
    await registry.addDevice({ id: 'W-WANG-1', kind: 'wearable', residentId: wang.id });
    await registry.addDevice({ id: 'G-2301', kind: 'gas_sensor', homeId: wang.home.homeId });
    await registry.addDevice({ id: 'w-li-7', kind: 'wearable', residentId: li.id });
    await registry.addDevice({ id: 'E-2302', kind: 'env_monitor', homeId: li.home.homeId });
    await registry.addDevice({ id: 'W-ZHANG', kind: 'wearable', residentId: zhang.id });
    return { wang, wangLi, li, zhang };
  }

  it('finds residents by part of the name, home label or address, ignoring letter case', async () => {
    const registry = await open();
    const { wang, wangLi, li, zhang } = await community(registry);
    const find = async (search: string) => ids(await registry.findResidents({ search }));
    expect(await find('秀英')).toEqual([wang.id]);
    expect(await find('wANG')).toEqual([wangLi.id]);
    expect(await find('2-302')).toEqual([wangLi.id, li.id]);
    expect(await find('兰花')).toEqual([zhang.id]);
    expect(await find('赵')).toEqual([]);
    // Trimmed like anything typed.
    expect(await find('  李明 ')).toEqual([li.id]);
    await registry.close();
  });

  it('takes % and _ in a search literally', async () => {
    const registry = await open();
    await community(registry);
    const odd = await registry.addResident(person('A_100%', '9-901'));
    expect(ids(await registry.findResidents({ search: '%' }))).toEqual([odd.id]);
    expect(ids(await registry.findResidents({ search: '_' }))).toEqual([odd.id]);
    expect(ids(await registry.findResidents({ search: 'a_1' }))).toEqual([odd.id]);
    expect(ids(await registry.findResidents({ search: '\\' }))).toEqual([]);
    expect(ids(await registry.findDevices({ search: '_' }))).toEqual([]);
    await registry.close();
  });

  it('refuses a search that is empty, too long or holds control characters', async () => {
    const registry = await open();
    for (const search of ['', '   ', 'x'.repeat(101), 'a\u0000b', 'a\u202eb']) {
      const caught = await registry.findResidents({ search }).catch((err: unknown) => err);
      expect(caught, JSON.stringify(search)).toBeInstanceOf(RegistryError);
      expect((caught as RegistryError).code).toBe('invalid_input');
    }
    await registry.close();
  });

  it('keeps resident queries inside their reach: communities, residents, and nothing for an empty list', async () => {
    const registry = await open();
    const { wang, wangLi, li, zhang } = await community(registry);
    expect(ids(await registry.findResidents({ communityIds: [zhang.home.communityId] }))).toEqual([zhang.id]);
    expect(ids(await registry.findResidents({ residentIds: [wang.id], search: '2-302' }))).toEqual([]);
    expect(ids(await registry.findResidents({ residentIds: [li.id, zhang.id], search: '李' }))).toEqual([
      li.id,
    ]);
    expect(await registry.findResidents({ communityIds: [] })).toEqual([]);
    expect(await registry.findResidents({ residentIds: [] })).toEqual([]);
    expect(ids(await registry.findResidents({ communityIds: [wang.home.communityId] }))).toEqual([
      wang.id,
      wangLi.id,
      li.id,
    ]);
    await registry.close();
  });

  it('finds devices by id, by the wearer, and fixed devices by anyone living in their home', async () => {
    const registry = await open();
    const { wang } = await community(registry);
    const find = async (search: string) => ids(await registry.findDevices({ search }));
    expect(await find('w-wang')).toEqual(['W-WANG-1']);
    expect(await find('W-LI')).toEqual(['w-li-7']);
    expect(await find('王秀英')).toEqual(['G-2301', 'W-WANG-1']);
    // Wang Li wears nothing, but the home's sensor is hers too; 李明's wearable is not.
    expect(await find('wang li')).toEqual(['E-2302']);
    expect(await find('2-302')).toEqual(['E-2302', 'w-li-7']);
    expect(await find('兰花社区')).toEqual(['W-ZHANG']);
    expect(
      ids(await registry.findDevices({ of: { residentIds: [wang.id], homeIds: [] }, search: 'w' })),
    ).toEqual(['W-WANG-1']);
    await registry.close();
  });

  it('keeps device queries inside their reach: a family sees its relative and their home only', async () => {
    const registry = await open();
    const { wang, li, zhang } = await community(registry);
    const of = { residentIds: [li.id], homeIds: [li.home.homeId] };
    expect(ids(await registry.findDevices({ of }))).toEqual(['E-2302', 'w-li-7']);
    expect(ids(await registry.findDevices({ of, search: '王秀英' }))).toEqual([]);
    expect(ids(await registry.findDevices({ communityIds: [zhang.home.communityId] }))).toEqual(['W-ZHANG']);
    expect(
      ids(await registry.findDevices({ communityIds: [wang.home.communityId], search: 'zhang' })),
    ).toEqual([]);
    expect(await registry.findDevices({ of: { residentIds: [], homeIds: [] } })).toEqual([]);
    expect(await registry.findDevices({ communityIds: [] })).toEqual([]);
    await registry.close();
  });

  it('pages residents in address order without repeats or gaps, while residents are added meanwhile', async () => {
    const registry = await open();
    for (let i = 0; i < 23; i++) await registry.addResident(person(`居民${i}`, `1-${100 + (i % 7)}`));
    const seen: Resident[] = [];
    let after: Resident | undefined;
    let pages = 0;
    for (;;) {
      const page = await registry.findResidents({
        limit: 5,
        ...(after ? { after: residentKey(after) } : {}),
      });
      if (pages === 1) {
        // One sorts before the cursor (not shown on later pages), one after it (shown once).
        await registry.addResident(person('居民早', '1-000'));
        await registry.addResident(person('居民晚', '9-999'));
      }
      seen.push(...page);
      pages += 1;
      if (page.length < 5) break;
      after = page.at(-1);
    }
    const all = await registry.findResidents({ limit: 1000 });
    expect(all).toHaveLength(25);
    expect(new Set(ids(seen)).size).toBe(seen.length);
    expect(ids(seen)).toEqual(ids(all).filter((id) => all.find((r) => r.id === id)!.name !== '居民早'));
    expect(ids(all)).toEqual(ids(await registry.listResidents()));
    await registry.close();
  });

  it('pages devices by id, continuing after the last id of a page', async () => {
    const registry = await open();
    const { wang } = await community(registry);
    for (let i = 0; i < 12; i++) {
      await registry.addDevice({
        id: `X-${String(i).padStart(2, '0')}`,
        kind: 'wearable',
        residentId: wang.id,
      });
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await registry.findDevices({ search: 'x-', limit: 5, after });
      seen.push(...ids(page));
      if (page.length < 5) break;
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `X-${String(i).padStart(2, '0')}`));
    await registry.close();
  });
});
