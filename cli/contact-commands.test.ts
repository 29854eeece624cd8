// `anju contact link|unlink|list` as an operator runs them (in-process: cli/test-cli.ts), over a
// data directory whose resident, contacts and family account were made the way the server makes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../dashboard/accounts/index.ts';
import { Registry } from '../registry/index.ts';
import { openDatabases } from './databases.ts';
import { runAnju as anju } from './test-cli.ts';

let dir: string;
const ids = { daughter: '', stranger: '' };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'anju-cli-contact-'));
  const dbs = await openDatabases({ dataDir: dir });
  const registry = new Registry(dbs.registry, { flushEveryMs: 0 });
  const wang = await registry.addResident({
    name: '王秀英',
    address: { community: '梅花社区', compound: '一区', building: '3幢', home: '2-301' },
  });
  const li = await registry.addResident({
    name: '李建国',
    address: { community: '梅花社区', compound: '一区', building: '3幢', home: '2-302' },
  });
  ids.daughter = (
    await registry.addContact({
      residentId: wang.id,
      name: '王丽',
      relation: 'family',
      phone: '13800000001',
      channels: ['sms'],
    })
  ).id;
  ids.stranger = (
    await registry.addContact({
      residentId: li.id,
      name: '李明',
      relation: 'family',
      phone: '13800000002',
      channels: ['sms'],
    })
  ).id;
  await new Accounts(dbs.registry).users.create({
    username: 'wang.li',
    displayName: '王丽',
    role: 'family',
    password: 'lantern-violet-93',
    residents: [wang.id],
  });
  await registry.close();
  await dbs.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('anju contact', () => {
  it("links a family account to their relative's contact, lists it, refuses another family's, and unlinks", async () => {
    const help = await anju('contact', 'link', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('<username>');
    expect(help.stdout).toContain('anju contact link wang.li'.slice(0, 18));

    const foreign = await anju('contact', 'link', 'wang.li', ids.stranger, '--data-dir', dir);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toContain('is not a contact of a resident wang.li is assigned to');
    expect(foreign.stderr).not.toMatch(/^\s+at /m);

    const linked = await anju('contact', 'link', 'wang.li', ids.daughter, '--data-dir', dir, '--json');
    expect(linked.code, linked.stderr).toBe(0);
    expect(JSON.parse(linked.stdout)).toMatchObject({
      username: 'wang.li',
      contactId: ids.daughter,
      contact: '王丽',
      resident: '王秀英',
    });
    const twice = await anju('contact', 'link', 'wang.li', ids.daughter, '--data-dir', dir);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain('already linked');

    const list = await anju('contact', 'list', '--data-dir', dir, '--json');
    const rows = JSON.parse(list.stdout) as { contactId: string; account: string }[];
    expect(rows.find((r) => r.contactId === ids.daughter)?.account).toBe('wang.li');
    expect(rows.find((r) => r.contactId === ids.stranger)?.account).toBe('');

    expect((await anju('contact', 'unlink', 'wang.li', '--data-dir', dir)).code).toBe(0);
    const again = await anju('contact', 'unlink', 'wang.li', '--data-dir', dir);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('not linked');
  }, 120_000);
});
