// The registry commands: what each does, run in-process (`runAnju`), and what the executable itself
// answers (exit codes, --help, no stack trace) in a subprocess of `node bin/anju.js` (`spawnAnju`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAnju as anju, spawnAnju } from './test-cli.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-cli-'));
  dirs.push(dir);
  return dir;
}

const NO_STACK = /^\s+at /m;

const WANG = [
  '王秀英',
  '--community',
  '梅花社区',
  '--compound',
  '一区',
  '--building',
  '3幢',
  '--home',
  '2-301',
];

describe('anju resident and device', () => {
  it('adds a resident and a device, and lists them back as JSON', async () => {
    const dir = tempDir();
    const added = await anju(
      'resident',
      'add',
      ...WANG,
      '--birth-year',
      '1942',
      '--lives-alone',
      '--conditions',
      '高血压;糖尿病',
      '--data-dir',
      dir,
      '--json',
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const resident = JSON.parse(added.stdout);
    const listed = await anju('resident', 'list', '--data-dir', dir, '--json');
    expect(JSON.parse(listed.stdout)).toEqual([resident]);
    expect(resident).toMatchObject({
      name: '王秀英',
      birthYear: 1942,
      livesAlone: true,
      conditions: ['高血压', '糖尿病'],
    });

    const device = await anju(
      'device',
      'add',
      'W-0001',
      '--kind',
      'wearable',
      '--resident',
      resident.id,
      '--room',
      'bedroom',
      '--data-dir',
      dir,
      '--json',
    );
    expect(device.code).toBe(0);
    const { secret, ...shown } = JSON.parse(device.stdout);
    expect(secret).toMatch(/^[\w-]{32}$/);
    expect(device.stderr).toMatch(/shown only this once/);

    const devices = await anju('device', 'list', '--data-dir', dir, '--json');
    expect(JSON.parse(devices.stdout)).toEqual([shown]);
    expect(devices.stdout).not.toContain(secret);
    expect(devices.stdout).not.toMatch(/scrypt|secret/i);
  });

  it('prints the secret once in text mode with a note that it is not stored', async () => {
    const dir = tempDir();
    const resident = JSON.parse((await anju('resident', 'add', ...WANG, '--data-dir', dir, '--json')).stdout);
    const added = await anju(
      'device',
      'add',
      'G-0001',
      '--kind',
      'gas_sensor',
      '--home',
      resident.home.homeId,
      '--data-dir',
      dir,
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^secret: [\w-]{32}$/m);
    expect(added.stdout).toMatch(/shown only this once: Anju stores only its hash/);
  });

  it('revokes a device, as later listings show', async () => {
    const dir = tempDir();
    const resident = JSON.parse((await anju('resident', 'add', ...WANG, '--data-dir', dir, '--json')).stdout);
    await anju('device', 'add', 'W-0001', '--kind', 'wearable', '--resident', resident.id, '--data-dir', dir);
    const revoked = await anju('device', 'revoke', 'W-0001', '--data-dir', dir);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.stdout).toMatch(/status: revoked/);
    const [listed] = JSON.parse((await anju('device', 'list', '--data-dir', dir, '--json')).stdout);
    expect(listed.revokedAt).toEqual(expect.any(Number));
  });
});

describe('anju timezone', () => {
  it("sets a community's zone when a resident is added, then a home's own, and refuses an unknown zone", async () => {
    const dir = tempDir();
    const added = await anju(
      'resident',
      'add',
      ...WANG,
      '--community-time-zone',
      'asia/urumqi',
      '--json',
      '--data-dir',
      dir,
    );
    const help = await anju('timezone', 'set', '--help');
    expect(added.code).toBe(0);
    expect(help.stdout).toMatch(/Example:\n {2}anju timezone set /);
    const home = JSON.parse(added.stdout).home;
    expect(home).toMatchObject({ timeZone: null, communityTimeZone: 'Asia/Urumqi' });

    const set = await anju(
      'timezone',
      'set',
      'Europe/Berlin',
      '--home',
      home.homeId,
      '--json',
      '--data-dir',
      dir,
    );
    const bad = await anju(
      'timezone',
      'set',
      'Asia/Atlantis',
      '--community',
      home.communityId,
      '--data-dir',
      dir,
    );
    expect(JSON.parse(set.stdout)).toEqual({
      homeId: home.homeId,
      timeZone: 'Europe/Berlin',
      communityTimeZone: 'Asia/Urumqi',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^anju: unknown IANA time zone "Asia\/Atlantis"/m);
    expect(bad.stderr).not.toMatch(NO_STACK);

    await anju('timezone', 'set', 'inherit', '--home', home.homeId, '--data-dir', dir);
    const listed = await anju('resident', 'list', '--json', '--data-dir', dir);
    expect(JSON.parse(listed.stdout)[0].home).toMatchObject({
      timeZone: null,
      communityTimeZone: 'Asia/Urumqi',
    });
  });
});

describe('anju import', () => {
  it('imports the good rows, reports the refused ones and exits with 2', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'roster.csv');
    writeFileSync(
      file,
      '\uFEFFcommunity,compound,building,home,resident_name,birth_year,device_id,device_kind\r\n' +
        '"梅花社区, 东区",一区,3幢,101,"李明, 老李",1950,W-0001,wearable\r\n' +
        '梅花社区,一区,3幢,102,张三,not-a-year,,\r\n',
    );
    const dry = await anju('import', file, '--dry-run', '--data-dir', dir);
    expect(dry.stdout).toMatch(/dry run, nothing written/);
    expect(JSON.parse((await anju('resident', 'list', '--data-dir', dir, '--json')).stdout)).toEqual([]);

    const run = await anju('import', file, '--data-dir', dir, '--json');
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout);
    expect(report.summary).toMatchObject({ rows: 2, imported: 1, refused: 1 });
    expect(report.rows[0].device).toMatchObject({
      id: 'W-0001',
      status: 'created',
      secret: expect.any(String),
    });
    expect(report.rows[1]).toMatchObject({
      row: 2,
      line: 3,
      ok: false,
      errors: [expect.stringMatching(/birth_year/)],
    });
    const residents = JSON.parse((await anju('resident', 'list', '--data-dir', dir, '--json')).stdout);
    expect(
      residents.map((r: { name: string; home: { community: string } }) => [r.name, r.home.community]),
    ).toEqual([['李明, 老李', '梅花社区, 东区']]);
  });
});

describe('anju help and errors', () => {
  it('gives every registry subcommand a --help with an example', async () => {
    const commands = [
      ['resident', 'add'],
      ['resident', 'list'],
      ['device', 'add'],
      ['device', 'list'],
      ['device', 'revoke'],
      ['import'],
    ];
    const runs = [];
    for (const command of commands) runs.push(await anju(...command, '--help'));
    runs.forEach((run, i) => {
      expect(run.code, commands[i]!.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/Usage: anju/);
      expect(run.stdout).toMatch(/Example:\n {2}anju /);
    });
  });

  it('answers a bad argument with a clear message on stderr and a non-zero exit, never a stack trace', async () => {
    const dir = tempDir();
    const resident = JSON.parse((await anju('resident', 'add', ...WANG, '--data-dir', dir, '--json')).stdout);
    const cases: [string[], RegExp][] = [
      [
        ['device', 'add', 'W-0001', '--kind', 'watch', '--resident', resident.id],
        /argument 'watch' is invalid. Allowed choices are wearable/,
      ],
      [
        ['device', 'add', 'W-0001', '--kind', 'wearable', '--resident', 'rs_nobody'],
        /^anju: no resident with id rs_nobody$/m,
      ],
      [
        ['device', 'add', 'bad id!', '--kind', 'wearable', '--resident', resident.id],
        /^anju: id: 3-64 letters/m,
      ],
      [['resident', 'add', ...WANG], /^anju: 王秀英 is already registered at 梅花社区/m],
      [['resident', 'add', ...WANG, '--birth-year', '19x'], /--birth-year.*expected a year such as 1942/],
      [['device', 'revoke', 'nope'], /^anju: no device with id nope$/m],
      [['import', path.join(dir, 'missing.csv')], /^anju: .*no such file/m],
    ];
    const runs = [];
    for (const [args] of cases) runs.push(await anju(...args, '--data-dir', dir));
    runs.forEach((run, i) => {
      const [args, message] = cases[i]!;
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr).not.toMatch(NO_STACK);
    });
  });

  it('refuses to list from a data directory that holds no registry', async () => {
    const run = await anju('device', 'list', '--data-dir', path.join(tempDir(), 'typo'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^anju: no registry at .*typo.*check --data-dir/m);
  });
});

describe('the anju executable', () => {
  it('exits 0 after --help, 1 on a bad argument and 2 when an import refused rows, never with a stack trace', async () => {
    const dir = tempDir();
    const roster = path.join(dir, 'roster.csv');
    writeFileSync(
      roster,
      'community,compound,building,home,resident_name,birth_year\n梅花社区,一区,3幢,102,张三,not-a-year\n',
    );
    // Independent of each other, so run side by side: each is a Node process on a busy machine.
    const [help, bad, refused] = await Promise.all([
      spawnAnju(['device', 'add', '--help']),
      spawnAnju(['device', 'add', 'W-0001', '--kind', 'watch', '--resident', 'rs_x', '--data-dir', dir]),
      spawnAnju(['import', roster, '--data-dir', dir]),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: anju device add/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/argument 'watch' is invalid/);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/row 1 \(line 2\): REFUSED: .*birth_year/);
    for (const run of [bad, refused]) expect(run.stderr).not.toMatch(NO_STACK);
  });
});
