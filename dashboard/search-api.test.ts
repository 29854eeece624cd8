// Search and cursor pages of the alerts, residents and devices lists, over HTTP against the dashboard
// app: a search finds a resident's alerts, devices and record by name, home or device id, and never
// anything outside the caller's scope; pages follow each other without repeats or gaps while rows are
// added; bad limits, cursors and search text get a 400 problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import { ADMIN_PASSWORD, json, raiseAlert, signedIn, signedInAdmin, type Browser } from './test-support.ts';

let anju: TestApp;
let admin: Browser;
let staffPlum: Browser;
let familyWang: Browser;
let familyZhao: Browser;
const people: Record<'wang' | 'li' | 'zhao' | 'orchid', { id: string; homeId: string }> = {} as never;
const alertOf: Record<string, string> = {};

interface Page {
  nextCursor: string | null;
  alerts?: { id: string; residentId: string }[];
  residents?: { id: string; name: string }[];
  devices?: { id: string }[];
}

async function get(tab: Browser, path: string): Promise<Page> {
  const res = await tab.get(path);
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return json<Page>(res);
}

const ids = (list: { id: string }[] | undefined) => (list ?? []).map((x) => x.id).sort();
const q = (text: string) => encodeURIComponent(text);

beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
  const add = async (name: string, community: string, home: string) => {
    const r = await anju.registry.addResident({
      name,
      livesAlone: true,
      address: { community, compound: '一区', building: '3幢', home },
    });
    return { id: r.id, homeId: r.home.homeId };
  };
  people.wang = await add('王秀英', '梅花社区', '2-301');
  people.li = await add('李明', '梅花社区', '2-302');
  people.zhao = await add('赵建国', '梅花社区', '5-501');
  people.orchid = await add('王兰', '兰花社区', '1-101');
  await anju.registry.addDevice({ id: 'W-WANG', kind: 'wearable', residentId: people.wang.id });
  await anju.registry.addDevice({ id: 'G-2301', kind: 'gas_sensor', homeId: people.wang.homeId });
  await anju.registry.addDevice({ id: 'W-LI', kind: 'wearable', residentId: people.li.id });
  await anju.registry.addDevice({ id: 'W-ZHAO', kind: 'wearable', residentId: people.zhao.id });
  await anju.registry.addDevice({ id: 'W-ORCHID', kind: 'wearable', residentId: people.orchid.id });
  for (const [who, device] of [
    ['wang', 'W-WANG'],
    ['li', 'W-LI'],
    ['zhao', 'W-ZHAO'],
    ['orchid', 'W-ORCHID'],
  ] as const) {
    alertOf[who] = (await raiseAlert(anju, people[who].id, { deviceId: device })).id;
  }
  const plum = (await anju.registry.getResident(people.wang.id))!.home.communityId;
  admin = await signedInAdmin(anju);
  staffPlum = await signedIn(anju, 'staff', { communities: [plum] });
  familyWang = await signedIn(anju, 'family', { residents: [people.wang.id] });
  familyZhao = await signedIn(anju, 'family', { residents: [people.zhao.id] });
});
afterAll(async () => {
  await anju.stop();
});

describe('search', () => {
  it("finds a resident's alerts, devices and record by part of the name", async () => {
    expect(ids((await get(staffPlum, `/api/v1/alerts?q=${q('秀英')}`)).alerts)).toEqual([alertOf.wang]);
    expect(ids((await get(staffPlum, `/api/v1/residents?q=${q('秀英')}`)).residents)).toEqual([
      people.wang.id,
    ]);
    expect(ids((await get(staffPlum, `/api/v1/devices?q=${q('王秀英')}`)).devices)).toEqual([
      'G-2301',
      'W-WANG',
    ]);
  });

  it('finds by home label and by device id, ignoring case', async () => {
    expect(ids((await get(staffPlum, `/api/v1/residents?q=2-30`)).residents)).toEqual(
      [people.wang.id, people.li.id].sort(),
    );
    expect(ids((await get(staffPlum, `/api/v1/alerts?q=2-302`)).alerts)).toEqual([alertOf.li]);
    expect(ids((await get(staffPlum, `/api/v1/alerts?q=w-zh`)).alerts)).toEqual([alertOf.zhao]);
    expect(ids((await get(staffPlum, `/api/v1/devices?q=w-li`)).devices)).toEqual(['W-LI']);
  });

  it("never finds what is outside the caller's scope", async () => {
    // Another family's relative, by name, home and device id: nothing, not even a count.
    for (const text of ['赵建国', '赵', '5-501', 'W-ZHAO']) {
      for (const list of ['alerts', 'residents', 'devices'] as const) {
        const page = await get(familyWang, `/api/v1/${list}?q=${q(text)}`);
        expect(page[list], `${list} ${text}`).toEqual([]);
        expect(page.nextCursor).toBeNull();
      }
    }
    // Their own relative they do find; the other family finds theirs.
    expect(ids((await get(familyWang, `/api/v1/alerts?q=${q('王')}`)).alerts)).toEqual([alertOf.wang]);
    expect(ids((await get(familyZhao, `/api/v1/residents?q=${q('赵')}`)).residents)).toEqual([
      people.zhao.id,
    ]);
    // Staff of 梅花社区 do not find 王兰 of 兰花社区; an admin does.
    expect(ids((await get(staffPlum, `/api/v1/residents?q=${q('王')}`)).residents)).toEqual([people.wang.id]);
    expect(ids((await get(staffPlum, `/api/v1/alerts?q=orchid`)).alerts)).toEqual([]);
    expect(ids((await get(admin, `/api/v1/alerts?q=${q('王')}`)).alerts)).toEqual(
      [alertOf.wang, alertOf.orchid].sort(),
    );
  });

  it('takes SQL and LIKE wildcards as plain text', async () => {
    for (const text of ["' OR '1'='1", '%', '_', '\\', '%%__']) {
      for (const list of ['alerts', 'residents', 'devices'] as const) {
        expect((await get(admin, `/api/v1/${list}?q=${q(text)}`))[list], text).toEqual([]);
      }
    }
    // Blank: no search at all.
    expect((await get(staffPlum, `/api/v1/residents?q=${q('   ')}`)).residents).toHaveLength(3);
  });
});

describe('cursor pages', () => {
  /** Every page of a list, `limit` at a time, calling `between` after the first page. */
  async function allPages(
    tab: Browser,
    list: 'alerts' | 'residents' | 'devices',
    query: string,
    limit: number,
    between?: () => Promise<void>,
  ): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 50; n++) {
      const page: Page = await get(
        tab,
        `/api/v1/${list}?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page[list]!.length).toBeLessThanOrEqual(limit);
      seen.push(...page[list]!.map((x) => x.id));
      if (n === 0) await between?.();
      cursor = page.nextCursor;
      if (cursor === null) return seen;
    }
    throw new Error('more than 50 pages');
  }

  it('pages through residents, devices and alerts without repeats or gaps while rows are added', async () => {
    const extra: string[] = [];
    const before = {
      residents: ids((await get(admin, '/api/v1/residents?limit=1000')).residents),
      devices: ids((await get(admin, '/api/v1/devices?limit=1000')).devices),
      alerts: ids((await get(admin, '/api/v1/alerts?limit=1000')).alerts),
    };
    for (let i = 0; i < 9; i++) {
      const r = await anju.registry.addResident({
        name: `页测${i}`,
        address: { community: '梅花社区', compound: '二区', building: '9幢', home: `9-${i}` },
      });
      extra.push(r.id);
      await anju.registry.addDevice({ id: `P-${i}`, kind: 'wearable', residentId: r.id });
      await raiseAlert(anju, r.id, { deviceId: `P-${i}` });
    }
    const residents = await allPages(admin, 'residents', '', 4);
    expect(residents).toHaveLength(before.residents.length + 9);
    expect(new Set(residents).size).toBe(residents.length);
    const devices = await allPages(admin, 'devices', '', 3);
    expect(devices).toHaveLength(before.devices.length + 9);
    expect(new Set(devices).size).toBe(devices.length);

    // An alert raised while paging is newer than the cursor: the later pages neither repeat nor skip.
    const listed = ids((await get(admin, '/api/v1/alerts?limit=1000')).alerts);
    let late = '';
    const alerts = await allPages(admin, 'alerts', '', 5, async () => {
      late = (await raiseAlert(anju, people.li.id, { ruleId: 'event.fall', deviceId: 'W-LI' })).id;
    });
    expect([...alerts].sort()).toEqual(listed);
    expect(alerts).not.toContain(late);
    // A search pages the same way.
    expect((await allPages(staffPlum, 'devices', `&q=${q('页测')}`, 2)).sort()).toEqual(
      Array.from({ length: 9 }, (_, i) => `P-${i}`),
    );
  });

  it('keeps the answer shape of a single page for clients that send no cursor', async () => {
    const page = await get(familyWang, '/api/v1/alerts');
    expect(page).toEqual({ alerts: [expect.objectContaining({ id: alertOf.wang })], nextCursor: null });
  });
});

describe('bad paging and search input', () => {
  async function expectProblem(path: string, pattern?: RegExp): Promise<void> {
    const res = await admin.get(path);
    expect(res.status, path).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const body = await json<{ status: number; detail?: string }>(res);
    expect(body.status).toBe(400);
    if (pattern) expect(body.detail, path).toMatch(pattern);
  }

  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each(['alerts', 'residents', 'devices'])('refuses an out-of-range limit on %s', async (list) => {
    for (const limit of ['0', '-1', '1001', '2.5', 'ten', '1e400']) {
      await expectProblem(`/api/v1/${list}?limit=${limit}`);
    }
  });

  it.each(['alerts', 'residents', 'devices'])('refuses a malformed or forged cursor on %s', async (list) => {
    const wrongShape = list === 'alerts' ? [list, 'x', 'y'] : [list, 1, 2, 3];
    for (const cursor of [
      'not a cursor!',
      'a'.repeat(1001),
      '%00',
      forged('{"unterminated'),
      forged({ alerts: 1 }),
      forged([]),
      forged(wrongShape),
      forged(['someone-else', 1, 'x']),
      // A NUL in a key, an integer beyond 2^53, a number where text belongs.
      forged(
        list === 'alerts'
          ? [list, 1, 'a\u0000']
          : [list, ...Array(list === 'devices' ? 1 : 7).fill('a\u0000')],
      ),
      forged(list === 'alerts' ? [list, 2 ** 60, 'x'] : [list, ...Array(list === 'devices' ? 1 : 7).fill(1)]),
      forged(list === 'alerts' ? ['residents', 'a', 'b', 'c', 'd', 'e', 'f', 'g'] : ['alerts', 1, 'x']),
    ]) {
      await expectProblem(`/api/v1/${list}?cursor=${encodeURIComponent(cursor)}`);
    }
  });

  it.each(['alerts', 'residents', 'devices'])('refuses hostile search text on %s', async (list) => {
    for (const text of ['a\u0000b', 'x\u001b[31m', '\u202eevil', 'x'.repeat(101)]) {
      await expectProblem(`/api/v1/${list}?q=${encodeURIComponent(text)}`);
    }
    await expectProblem(`/api/v1/${list}?q=a&q=b`);
    // Broken percent-encoding is read as the text it is: no match, and no 5xx.
    expect((await admin.get(`/api/v1/${list}?q=%E0%A4%A`)).status).toBe(200);
  });

  it('accepts a cursor made for another page size and filter, as positions only', async () => {
    const first = await get(admin, '/api/v1/residents?limit=1');
    const next = await get(admin, `/api/v1/residents?limit=2&q=${q('王')}&cursor=${first.nextCursor}`);
    expect(next.residents!.every((r) => r.name.includes('王'))).toBe(true);
  });
});
