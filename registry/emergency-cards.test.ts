import { expect, it } from 'vitest';
import { migrate } from '../database/migrations.ts';
import { isCheckViolation, isForeignKeyViolation, type Database } from '../database/sql.ts';
import { eachBackend } from '../test/backends.ts';
import { EmergencyCards, MAX_PHOTO_BYTES } from './emergency-cards.ts';
import { REGISTRY_SCHEMA } from './migrations.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a464946', 'hex');

async function withResident(db: Database): Promise<void> {
  await migrate(db, [REGISTRY_SCHEMA]);
  await db.exec(`
    INSERT INTO communities (id, name, region, created_at) VALUES ('cm_1', '幸福里', '', 1);
    INSERT INTO compounds (id, community_id, name, created_at) VALUES ('cp_1', 'cm_1', 'A', 1);
    INSERT INTO buildings (id, compound_id, name, created_at) VALUES ('bd_1', 'cp_1', '1', 1);
    INSERT INTO homes (id, building_id, label, created_at) VALUES ('hm_1', 'bd_1', '101', 1);
    INSERT INTO residents (id, home_id, name, lives_alone, language, created_at)
      VALUES ('rs_1', 'hm_1', '王秀英', 1, 'zh-CN', 1);`);
}

eachBackend('emergency cards', (backend) => {
  it('gives an empty card until staff write one, then the card as written, phones in E.164', async () => {
    const db = await backend.fresh();
    await withResident(db);
    let now = 1000;
    const cards = new EmergencyCards(db, () => now);
    expect(await cards.get('rs_1')).toMatchObject({ medications: null, hasPhoto: false, updatedAt: null });

    await cards.put('rs_1', { medications: '氨氯地平 5mg 每早', doctorPhone: '138 0000 0000' }, 'us_a');
    now = 2000;
    const card = await cards.put(
      'rs_1',
      { medications: '氨氯地平 5mg 每早\n阿司匹林', allergies: '青霉素', keySafe: '门口左侧，密码问网格员' },
      'us_b',
    );
    expect(card).toMatchObject({
      medications: '氨氯地平 5mg 每早\n阿司匹林',
      allergies: '青霉素',
      doctorPhone: null, // a field left out is cleared: the card is written whole
      keySafe: '门口左侧，密码问网格员',
      updatedAt: 2000,
      updatedBy: 'us_b',
    });
    expect((await cards.put('rs_1', { phone: '13800000000' }, 'us_b')).phone).toBe('+8613800000000');
  });

  it('refuses control characters, a malformed phone and a card for nobody, changing nothing', async () => {
    const db = await backend.fresh();
    await withResident(db);
    const cards = new EmergencyCards(db);
    await cards.put('rs_1', { allergies: '青霉素' }, 'us_a');
    await expect(cards.put('rs_1', { allergies: 'a\u0000b' }, 'us_a')).rejects.toThrow(/control/);
    await expect(cards.put('rs_1', { phone: '<b>1</b>' }, 'us_a')).rejects.toThrow(/E\.164/);
    await expect(cards.put('rs_missing', {}, 'us_a')).rejects.toSatisfy(isForeignKeyViolation);
    expect((await cards.get('rs_1')).allergies).toBe('青霉素');
  });

  it('keeps a JPEG or PNG photo by what its bytes are, and nothing else', async () => {
    const db = await backend.fresh();
    await withResident(db);
    const cards = new EmergencyCards(db);
    expect(await cards.putPhoto('rs_1', PNG, 'us_a')).toBe('image/png');
    expect(await cards.photo('rs_1')).toEqual({ contentType: 'image/png', data: PNG });
    expect(await cards.putPhoto('rs_1', JPEG, 'us_a')).toBe('image/jpeg');
    expect((await cards.get('rs_1')).hasPhoto).toBe(true);
    await expect(cards.putPhoto('rs_1', Buffer.from('<svg onload=alert(1)>'), 'us_a')).rejects.toThrow(
      /JPEG or PNG/,
    );
    const big = Buffer.concat([JPEG, Buffer.alloc(MAX_PHOTO_BYTES)]);
    await expect(cards.putPhoto('rs_1', big, 'us_a')).rejects.toThrow(/KB/);
    expect((await cards.photo('rs_1'))?.contentType).toBe('image/jpeg');
    expect(await cards.deletePhoto('rs_1')).toBe(true);
    expect(await cards.photo('rs_1')).toBeUndefined();
  });

  it('logs every opening, newest first, and the log cannot be changed or deleted', async () => {
    const db = await backend.fresh();
    await withResident(db);
    let now = 100;
    const cards = new EmergencyCards(db, () => now);
    await cards.recordAccess('rs_1', 'us_a');
    now = 200;
    await cards.recordAccess('rs_1', 'us_b');
    expect(await cards.accessLog('rs_1')).toEqual([
      { at: 200, actor: 'us_b' },
      { at: 100, actor: 'us_a' },
    ]);
    await expect(db.run("UPDATE emergency_card_access SET actor = 'nobody'")).rejects.toSatisfy(
      isCheckViolation,
    );
    await expect(db.run('DELETE FROM emergency_card_access')).rejects.toSatisfy(isCheckViolation);
    expect(await cards.accessLog('rs_1')).toHaveLength(2);
  });
});
