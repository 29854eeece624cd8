// One suite, both backends: resident rule overrides are kept whole, replaced, listed as a rules
// document's `residents:` section, refused for a resident the registry does not have, and gone with the
// resident. The document they make is the one the engine runs and the admin page checks.
import { expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import { isForeignKeyViolation, type Database } from '../../database/sql.ts';
import { REGISTRY_SCHEMA } from '../../registry/migrations.ts';
import { eachBackend } from '../../test/backends.ts';
import { checkOverrides, ruleSetWith } from './document.ts';
import { RESIDENT_RULES_SCHEMA } from './migrations.ts';
import { ResidentRuleStore, type ResidentRules } from './store.ts';

const T0 = Date.UTC(2025, 0, 15, 2, 0, 0);

/** A community with one home and the given residents, in plain SQL: the registry's code is not under test. */
async function seed(db: Database, residents: string[]): Promise<void> {
  await db.run("INSERT INTO communities (id, name, created_at) VALUES ('cm_a', '阳光社区', ?)", [T0]);
  await db.run(
    "INSERT INTO compounds (id, community_id, name, created_at) VALUES ('cp_a', 'cm_a', '阳光苑', ?)",
    [T0],
  );
  await db.run(
    "INSERT INTO buildings (id, compound_id, name, created_at) VALUES ('bd_a', 'cp_a', '3幢', ?)",
    [T0],
  );
  await db.run("INSERT INTO homes (id, building_id, label, created_at) VALUES ('hm_a', 'bd_a', '2-301', ?)", [
    T0,
  ]);
  for (const id of residents)
    await db.run(
      `INSERT INTO residents (id, home_id, name, lives_alone, language, created_at)
       VALUES (?, 'hm_a', ?, 1, 'zh-CN', ?)`,
      [id, `name of ${id}`, T0],
    );
}

eachBackend('resident rule overrides', (backend) => {
  async function open() {
    const db = await backend.fresh();
    await migrate(db, [REGISTRY_SCHEMA, RESIDENT_RULES_SCHEMA]);
    await seed(db, ['rs_1', 'rs_2']);
    let now = T0;
    const store = new ResidentRuleStore(db, () => now);
    return { db, store, setNow: (t: number) => void (now = t) };
  }

  it('keeps, replaces and lists overrides, telling listeners of each change', async () => {
    const { store, setNow } = await open();
    const told: ResidentRules[] = [];
    store.onChange((r) => told.push(r));
    expect(await store.get('rs_1')).toBeUndefined();
    expect(await store.all()).toEqual({});
    const gas = { gas: { methane: { alarm: 20 } } };
    expect(await store.put('rs_1', gas, 'us_admin')).toEqual({
      residentId: 'rs_1',
      overrides: gas,
      updatedAt: T0,
      updatedBy: 'us_admin',
    });
    setNow(T0 + 1000);
    const cold = { climate: { cold: { warning: 12 } } };
    await store.put('rs_1', cold, 'us_other');
    await store.put('rs_2', gas, 'us_admin');
    // Replaced whole, not merged with what was there.
    expect(await store.get('rs_1')).toEqual({
      residentId: 'rs_1',
      overrides: cold,
      updatedAt: T0 + 1000,
      updatedBy: 'us_other',
    });
    expect(await store.all()).toEqual({ rs_1: cold, rs_2: gas });
    expect(told.map((r) => [r.residentId, r.updatedBy])).toEqual([
      ['rs_1', 'us_admin'],
      ['rs_1', 'us_other'],
      ['rs_2', 'us_admin'],
    ]);
  });

  it('refuses overrides for a resident the registry does not have, and drops them with the resident', async () => {
    const { db, store } = await open();
    const err = await store.put('rs_ghost', {}, 'us_admin').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isForeignKeyViolation(err)).toBe(true);
    expect(await store.all()).toEqual({});
    await store.put('rs_2', { gas: { methane: { alarm: 20 } } }, 'us_admin');
    await db.run("DELETE FROM residents WHERE id = 'rs_2'");
    expect(await store.get('rs_2')).toBeUndefined();
  });

  it('makes the rules the engine runs from the stored overrides, and checks one before it is stored', async () => {
    const { store } = await open();
    expect(checkOverrides(undefined, 'rs_1', { gas: { methane: { alarm: 'high' } } })).toEqual([
      { path: expect.stringContaining('gas.methane.alarm') as string, message: expect.any(String) as string },
    ]);
    const overrides = { gas: { methane: { alarm: 20 } } };
    expect(checkOverrides(undefined, 'rs_1', overrides)).toEqual([]);
    await store.put('rs_1', overrides, 'us_admin');
    const rules = ruleSetWith(undefined, await store.all());
    expect(rules.forResident('rs_1').gas.methane.alarm).toBe(20);
    expect(rules.forResident('rs_2').gas.methane.alarm).toBe(25);
  });
});
