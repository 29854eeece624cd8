// Roster import on each backend: the refused rows of a file are reported, and (a savepoint per row)
// nothing of them is written, on SQLite as on PostgreSQL.
import { describe, expect, it } from 'vitest';
import { migrate } from '../database/migrations.ts';
import { verifySecret } from '../firmware-protocol/credentials.ts';
import { eachBackend } from '../test/backends.ts';
import { Registry, type ImportReport, type RowReport } from './index.ts';
import { REGISTRY_SCHEMA } from './migrations.ts';

const HEADER =
  'community,compound,building,home,resident_name,birth_year,lives_alone,conditions,device_id,device_kind,device_room';

function csv(...rows: string[]): string {
  return [HEADER, ...rows].join('\r\n') + '\r\n';
}

function okRows(report: ImportReport) {
  return report.rows.filter((r): r is Extract<RowReport, { ok: true }> => r.ok);
}

eachBackend('roster import', (backend) => {
  async function open() {
    const db = await backend.fresh();
    await migrate(db, [REGISTRY_SCHEMA]);
    return new Registry(db, { flushEveryMs: 0 });
  }

  describe('roster import', () => {
    it('imports the good rows and reports each refused row with the reason, by row and line', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        csv(
          '梅花社区,一区,3幢,2-301,王秀英,1942,是,高血压；糖尿病,W-0001,wearable,bedroom',
          '梅花社区,一区,3幢,2-302,张三,1850,maybe,,,,',
          '梅花社区,一区,3幢,2-303,,1950,no,,,,',
          '梅花社区,一区,3幢,2-304,李四,1950,no,,G-0001,,kitchen',
          '梅花社区,一区,3幢,2-305,赵六,1948,yes,,,,',
        ),
        { format: 'csv' },
      );
      expect(report.summary).toMatchObject({
        rows: 5,
        imported: 2,
        refused: 3,
        residentsCreated: 2,
        devicesCreated: 1,
      });
      expect(report.rows.map((r) => [r.row, r.line, r.ok])).toEqual([
        [1, 2, true],
        [2, 3, false],
        [3, 4, false],
        [4, 5, false],
        [5, 6, true],
      ]);
      const errors = report.rows.flatMap((r) => (r.ok ? [] : [r.errors.join('; ')]));
      expect(errors[0]).toMatch(/birth_year/);
      expect(errors[0]).toMatch(/lives_alone/);
      expect(errors[1]).toMatch(/resident_name: required/);
      expect(errors[2]).toMatch(/device_kind: required/);

      const residents = await registry.listResidents();
      expect(residents.map((r) => r.name)).toEqual(['王秀英', '赵六']);
      expect(residents[0]).toMatchObject({
        livesAlone: true,
        birthYear: 1942,
        conditions: ['高血压', '糖尿病'],
      });
      expect((await registry.listDevices()).map((d) => d.id)).toEqual(['W-0001']);
      await await registry.close();
    });

    it('reads quoted fields with commas, quotes, line breaks and Chinese text from a file with a BOM', async () => {
      const registry = await open();
      const text =
        '\uFEFFcommunity,compound,building,home,resident_name,routine_notes,conditions\r\n' +
        '"梅花社区, 东区",一区,3幢,101,"李明, 老李","早上七点散步\n晚上看""新闻联播""","高血压; 轻度认知障碍"\r\n';
      const report = await registry.importRoster(text, { format: 'csv' });
      expect(report.summary.imported).toBe(1);
      expect((await registry.listResidents())[0]).toMatchObject({
        name: '李明, 老李',
        routineNotes: '早上七点散步\n晚上看"新闻联播"',
        conditions: ['高血压', '轻度认知障碍'],
        home: { community: '梅花社区, 东区', compound: '一区', building: '3幢', home: '101' },
      });
      await await registry.close();
    });

    it('gives one resident several devices over several rows and returns each new secret once', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        csv(
          '梅花社区,一区,3幢,2-301,王秀英,1942,yes,高血压,W-0001,wearable,',
          '梅花社区,一区,3幢,2-301,王秀英,,,,G-0001,gas_sensor,kitchen',
        ),
        { format: 'csv' },
      );
      const [first, second] = okRows(report);
      expect(first?.resident.status).toBe('created');
      expect(second?.resident).toEqual({ id: first?.resident.id, status: 'repeated' });
      expect(await registry.listResidents()).toHaveLength(1);
      for (const row of [first, second]) {
        const { id, secret } = row!.device!;
        expect(await verifySecret(secret!, (await registry.findDevice(id))!.secretHash)).toBe(true);
        expect((await registry.getDevice(id))?.residentId).toBe(first?.resident.id);
      }
      expect((await registry.getDevice('G-0001'))?.room).toBe('kitchen');
      await await registry.close();
    });

    it('refuses a later row that contradicts an earlier row of the same resident', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        csv(
          '梅花社区,一区,3幢,2-301,王秀英,1942,yes,,,,',
          '梅花社区,一区,3幢,2-301,王秀英,1943,,,W-0001,wearable,',
        ),
        { format: 'csv' },
      );
      expect(report.rows[1]).toMatchObject({
        ok: false,
        errors: [expect.stringMatching(/birth_year.*row 1/)],
      });
      expect(await registry.listDevices()).toEqual([]);
      await await registry.close();
    });

    it('writes nothing of a refused row: its new resident is not created when its device is taken', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        csv(
          '梅花社区,一区,3幢,2-301,王秀英,1942,yes,,W-0001,wearable,',
          '梅花社区,一区,3幢,2-302,李明,1950,yes,,W-0001,wearable,',
        ),
        { format: 'csv' },
      );
      expect(report.rows[1]).toMatchObject({
        ok: false,
        errors: [expect.stringMatching(/W-0001 is already registered/)],
      });
      expect((await registry.listResidents()).map((r) => r.name)).toEqual(['王秀英']);
      await await registry.close();
    });

    it('can import the same roster again without duplicating residents or issuing new secrets', async () => {
      const registry = await open();
      const text = csv('梅花社区,一区,3幢,2-301,王秀英,1942,yes,,W-0001,wearable,');
      await registry.importRoster(text, { format: 'csv' });
      const hashBefore = (await registry.findDevice('W-0001'))!.secretHash;
      const again = await registry.importRoster(text, { format: 'csv' });
      expect(okRows(again)[0]).toMatchObject({
        resident: { status: 'unchanged' },
        device: { id: 'W-0001', status: 'exists' },
      });
      expect(JSON.stringify(again)).not.toMatch(/secret/);
      expect((await registry.findDevice('W-0001'))!.secretHash).toBe(hashBefore);
      expect(await registry.listResidents()).toHaveLength(1);
      await await registry.close();
    });

    it('fills an existing resident from non-blank cells and never erases with blank ones', async () => {
      const registry = await open();
      await registry.addResident({
        name: '王秀英',
        birthYear: 1942,
        livesAlone: true,
        conditions: ['高血压'],
        address: { community: '梅花社区', compound: '一区', building: '3幢', home: '2-301' },
      });
      const report = await registry.importRoster(csv('梅花社区,一区,3幢,2-301,王秀英,,,,W-0001,wearable,'), {
        format: 'csv',
      });
      expect(okRows(report)[0]?.resident.status).toBe('unchanged');
      await registry.importRoster(csv('梅花社区,一区,3幢,2-301,王秀英,1943,,,,,'), { format: 'csv' });
      expect((await registry.listResidents())[0]).toMatchObject({
        birthYear: 1943,
        livesAlone: true,
        conditions: ['高血压'],
      });
      await await registry.close();
    });

    it('checks everything on a dry run but writes nothing and issues no secrets', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        csv(
          '梅花社区,一区,3幢,2-301,王秀英,1942,yes,,W-0001,wearable,',
          '梅花社区,一区,3幢,2-302,张三,abc,,,,,',
        ),
        { format: 'csv', dryRun: true },
      );
      expect(report.dryRun).toBe(true);
      expect(report.rows.map((r) => r.ok)).toEqual([true, false]);
      expect(okRows(report)[0]?.device).toEqual({ id: 'W-0001', status: 'created' });
      expect(await registry.listResidents()).toEqual([]);
      expect(await registry.listDevices()).toEqual([]);
      await await registry.close();
    });

    it('reads a JSON array with typed or text values and reports an entry that is not an object', async () => {
      const registry = await open();
      const rows = [
        {
          community: '梅花社区',
          compound: '一区',
          building: 3,
          home: 201,
          resident_name: 'Mary',
          birth_year: 1940,
          lives_alone: true,
          language: 'en',
          conditions: ['COPD'],
        },
        {
          community: '梅花社区',
          compound: '一区',
          building: '3',
          home: '202',
          resident_name: '王秀英',
          birth_year: '1942',
          lives_alone: '否',
        },
        'not a row',
        {
          community: '梅花社区',
          compound: '一区',
          building: '3',
          home: '203',
          resident_name: 'X',
          phone: '1380000',
        },
      ];
      const report = await registry.importRoster(JSON.stringify(rows), { format: 'json' });
      expect(report.rows.map((r) => r.ok)).toEqual([true, true, false, false]);
      expect(report.rows[2]).toMatchObject({ row: 3, errors: ['is not an object'] });
      expect(JSON.stringify(report.rows[3])).toMatch(/phone/);
      expect(
        (await registry.listResidents()).map((r) => [r.name, r.language, r.livesAlone, r.conditions]),
      ).toEqual([
        ['Mary', 'en', true, ['COPD']],
        ['王秀英', 'zh-CN', false, []],
      ]);
      await await registry.close();
    });

    it('refuses a whole file whose header has an unknown or missing column, before writing anything', async () => {
      const registry = await open();
      await expect(
        registry.importRoster('community,compound,building,home,name\n', { format: 'csv' }),
      ).rejects.toMatchObject({
        code: 'invalid_roster',
        message: expect.stringMatching(/unknown column\(s\) "name"; known columns: region, community/),
      });
      await expect(
        registry.importRoster('community,compound,building,resident_name\n', { format: 'csv' }),
      ).rejects.toThrow(/missing column\(s\): home/);
      await expect(registry.importRoster('{"a":1}', { format: 'json' })).rejects.toThrow(/array/);
      await expect(registry.importRoster('[', { format: 'json' })).rejects.toThrow(/not valid JSON/);
      expect(await registry.listResidents()).toEqual([]);
      await await registry.close();
    });

    it('refuses a row with more fields than the header (an unquoted comma)', async () => {
      const registry = await open();
      const report = await registry.importRoster(
        'community,compound,building,home,resident_name\n梅花社区,一区,3幢,101,李明, 老李\n',
        { format: 'csv' },
      );
      expect(report.rows[0]).toMatchObject({
        ok: false,
        errors: [expect.stringMatching(/6 fields but the header has 5/)],
      });
      await await registry.close();
    });

    it("sets a home's and a community's time zone from their columns, and refuses a row with an unknown zone", async () => {
      const registry = await open();
      const report = await registry.importRoster(
        [
          'community,compound,building,home,time_zone,community_time_zone,resident_name',
          '梅花社区,一区,3幢,2-301,,Asia/Shanghai,王秀英',
          '梅花社区,一区,3幢,2-302,Europe/Berlin,,Anna',
          '梅花社区,一区,3幢,2-303,Europe/Atlantis,,张三',
        ].join('\n'),
        { format: 'csv' },
      );
      expect(report.summary).toMatchObject({ imported: 2, refused: 1 });
      expect(report.rows[2]).toMatchObject({
        ok: false,
        errors: [expect.stringMatching(/^time_zone: unknown IANA/)],
      });
      const zones = (await registry.listResidents()).map((r) => [
        r.name,
        r.home.timeZone,
        r.home.communityTimeZone,
      ]);
      expect(zones).toEqual([
        ['王秀英', null, 'Asia/Shanghai'],
        ['Anna', 'Europe/Berlin', 'Asia/Shanghai'],
      ]);
      await await registry.close();
    });
  });
});
