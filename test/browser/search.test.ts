// Staff finding people in lists longer than a screen: a resident's name typed into the console, devices
// or residents search shows that resident's alerts, devices and record and nothing else; "show more"
// pages through the rest of a long list without repeating or skipping anyone.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../../dashboard/test-support.ts';
import { launchBrowser, logIn, newPerson, saveFailure, screenshot } from './browser.ts';
import { startCommunity, type Community } from './community.ts';

/** More than two pages of residents (25 a page) and more than one of alerts and devices (50). */
const EXTRA = 55;
const pad = (i: number) => String(i).padStart(2, '0');

describe('search and pages', () => {
  let community: Community;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [community, browser] = await Promise.all([startCommunity(), launchBrowser()]);
    const { anju, residents } = community;
    for (let i = 0; i < EXTRA; i++) {
      const r = await anju.registry.addResident({
        name: `居民${pad(i)}`,
        livesAlone: true,
        address: {
          region: '浙江省/嘉兴市/南湖区',
          community: '南湖社区',
          compound: '幸福里',
          building: '9',
          home: `9${pad(i)}`,
        },
      });
      await anju.registry.addDevice({ id: `band-p-${pad(i)}`, kind: 'wearable', residentId: r.id });
      await raiseAlert(anju, r.id, { deviceId: `band-p-${pad(i)}`, ruleId: 'event.fall', severity: 'alarm' });
    }
    await raiseAlert(anju, residents.wang.id, { deviceId: community.devices.wangBand.id });
    await raiseAlert(anju, residents.li.id, { deviceId: community.devices.liBand.id });
    ({ page } = await newPerson(browser, community.baseUrl));
    await logIn(page, community.logins.staff, '/console');
  }, 180_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await saveFailure(page, task.name);
  });

  afterAll(async () => {
    await browser?.close();
    await community?.stop();
  });

  async function search(text: string): Promise<void> {
    await page.getByTestId('list-search').fill(text);
    await page.getByTestId('list-search').press('Enter');
  }

  /** The ids of the rows, once the list stopped changing. */
  async function settled(rows: Locator, attribute: string, expected: number): Promise<string[]> {
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(expected);
    return (await rows.evaluateAll(
      (els, name) =>
        els.map((el) => (el as unknown as { getAttribute(n: string): string }).getAttribute(name)),
      attribute,
    )) as string[];
  }

  it("shows only the resident's alerts when staff type their name into the console search", async () => {
    const rows = page.locator('[data-testid="alert-list"] .alert-row');
    // Ours, and any the community's devices raised by themselves (a sensor that never came online).
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(EXTRA + 2);
    const live = await rows.count();
    const activeOf = async (residentId: string) => {
      const { body } = await community.api<{ alerts: { id: string; residentId: string }[] }>(
        'GET',
        '/api/v1/alerts?state=active&limit=1000',
      );
      return body.alerts.filter((a) => a.residentId === residentId).map((a) => a.id);
    };
    const wangAlerts = await activeOf(community.residents.wang.id);
    await search('王秀英');
    expect((await settled(rows, 'data-alert-id', wangAlerts.length)).sort()).toEqual(wangAlerts.sort());
    for (const text of await rows.allTextContents()) expect(text).toContain('王秀英');
    // By the device id, any letter case: only the alert of that wearable.
    await search('BAND-LI');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('李建国');
    await search('nobody-here');
    await page.getByText('没有符合搜索条件的结果。').waitFor();
    // A search longer than a page: "show more" brings the rest, each alert once.
    await search('居民');
    const first = await settled(rows, 'data-alert-id', 50);
    await page.getByTestId('load-more').click();
    const all = await settled(rows, 'data-alert-id', EXTRA);
    expect(all.slice(0, 50)).toEqual(first);
    expect(new Set(all).size).toBe(EXTRA);
    expect(await page.getByTestId('load-more').count()).toBe(0);
    await search('');
    await expect.poll(() => rows.count()).toBe(live);
  });

  it("shows only the resident's devices on the devices page", async () => {
    await page.goto('/devices');
    const rows = page.locator('[data-testid="device-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await search('王秀英');
    expect((await settled(rows, 'data-device-id', 3)).sort()).toEqual(
      [community.devices.wangBand.id, community.devices.wangGas.id, community.devices.wangRoom.id].sort(),
    );
    await search('band-p');
    const first = await settled(rows, 'data-device-id', 50);
    await page.getByTestId('load-more').click();
    const all = await settled(rows, 'data-device-id', EXTRA);
    expect(all).toEqual(Array.from({ length: EXTRA }, (_, i) => `band-p-${pad(i)}`));
    expect(all.slice(0, 50)).toEqual(first);
  });

  it('pages through the residents list without repeats or gaps, and finds one by name', async () => {
    await page.getByRole('link', { name: '居民', exact: true }).click();
    await page.waitForURL('**/residents');
    const rows = page.locator('[data-testid="resident-table"] tbody tr');
    const total = EXTRA + 3;
    const seen = [await settled(rows, 'data-resident-id', 25)];
    await page.getByTestId('load-more').click();
    seen.push(await settled(rows, 'data-resident-id', 50));
    await page.getByTestId('load-more').click();
    const all = await settled(rows, 'data-resident-id', total);
    expect(all.slice(0, 25)).toEqual(seen[0]);
    expect(all.slice(0, 50)).toEqual(seen[1]);
    expect(new Set(all).size).toBe(total);
    const { body } = await community.api<{ residents: { id: string }[] }>(
      'GET',
      '/api/v1/residents?limit=1000',
    );
    expect(all).toEqual(body.residents.map((r) => r.id));
    expect(await page.getByTestId('load-more').count()).toBe(0);

    await search('张桂兰');
    expect(await settled(rows, 'data-resident-id', 1)).toEqual([community.residents.zhang.id]);
    await screenshot(page, 'residents-search');
    await rows.first().getByRole('link').click();
    await page.waitForURL(`**/residents/${community.residents.zhang.id}`);
  });
});
