// Community staff at the alert console: an SOS pressed on a wearable is in front of them within 2 s, with
// a sound and a flashing title; they take it on and close it with an outcome, and the alert's history
// records who did what.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, logIn, newPerson, saveFailure, screenshot } from './browser.ts';
import { readingsStored, startCommunity, type Community } from './community.ts';

interface AlertDetail {
  alert: { id: string; state: string; outcome: string | null; acknowledgedBy: string | null };
  history: { actor: string; action: string; details: Record<string, unknown> }[];
}

describe('alert console', () => {
  let community: Community;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    [community, browser] = await Promise.all([startCommunity(), launchBrowser()]);
    await readingsStored(community);
    ({ page } = await newPerson(browser, community.baseUrl));
    // Count the console's beeps: each one starts oscillators on the page's AudioContext.
    // (A string, because this file is compiled without the DOM library.)
    await page.addInitScript(`
      window.beeps = 0;
      const createOscillator = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function () {
        window.beeps += 1;
        return createOscillator.call(this);
      };
    `);
  }, 120_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await saveFailure(page, task.name);
  });

  afterAll(async () => {
    await browser?.close();
    await community?.stop();
  });

  it('shows an SOS within 2 s of the device publishing it, with a sound and a flashing title', async () => {
    await logIn(page, community.logins.staff, '/console');
    await expect.poll(() => page.getByTestId('connection').getAttribute('class')).toContain('conn-live');

    const sosRow = page.locator('[data-rule="event.sos"]');
    expect(await sosRow.count()).toBe(0);
    const publishedAt = await community.sos(community.devices.wangBand);
    await sosRow.waitFor({ state: 'visible', timeout: 2_000 });
    const shownAfterMs = Date.now() - publishedAt;
    console.log(`SOS on the console ${shownAfterMs} ms after the device published it`);
    expect(shownAfterMs).toBeLessThan(2_000);

    await expect.poll(() => sosRow.textContent()).toContain('王秀英');
    await expect.poll(() => page.evaluate<number>('window.beeps')).toBeGreaterThan(0);
    await expect.poll(() => page.title()).toMatch(/^⚠/);

    await sosRow.locator('button').click();
    await page.getByTestId('alert-panel').waitFor();
    await screenshot(page, 'console');
  });

  it('lets staff take the alert on and resolve it with an outcome, and records who did what', async () => {
    const panel = page.getByTestId('alert-panel');
    const alertId = await page.locator('[data-rule="event.sos"]').getAttribute('data-alert-id');
    expect(alertId).toBeTruthy();

    await panel.locator('textarea[name="note"]').fill('已电话联系，正在上门');
    await panel.getByRole('button', { name: '接手处理' }).click();
    await expect.poll(() => panel.getByTestId('alert-state').textContent()).toBe('处理中');
    // Taking it on stops the title flashing.
    await expect.poll(() => page.title()).not.toMatch(/^⚠/);

    await panel.locator('select[name="outcome"]').selectOption('false_alarm');
    await panel.locator('textarea[name="note"]').fill('老人误按，已确认安全');
    await panel.getByRole('button', { name: '关闭告警' }).click();
    await expect.poll(() => panel.getByTestId('alert-state').textContent()).toBe('已关闭');

    const history = panel.getByTestId('alert-history');
    await expect.poll(() => history.textContent()).toContain('接手处理');
    await expect.poll(() => history.textContent()).toContain('误报');
    expect(await history.textContent()).toContain('已电话联系，正在上门');

    // The server's record agrees: one staff member acknowledged, then resolved, with the outcome.
    const { status, body } = await community.api<AlertDetail>('GET', `/api/v1/alerts/${alertId}`);
    expect(status).toBe(200);
    expect(body.alert).toMatchObject({ state: 'resolved', outcome: 'false_alarm' });
    const acts = body.history.filter((h) => h.action === 'acknowledged' || h.action === 'resolved');
    expect(acts.map((h) => h.action)).toEqual(['acknowledged', 'resolved']);
    expect(new Set(acts.map((h) => h.actor)).size).toBe(1);
    expect(acts[0]!.actor).not.toBe('system');
    expect(acts[1]!.details).toMatchObject({ outcome: 'false_alarm', note: '老人误按，已确认安全' });

    // A resolved alert leaves the default (unresolved) view and is found under "resolved".
    await panel.getByRole('button', { name: '关闭', exact: true }).click();
    await expect.poll(() => page.locator(`[data-alert-id="${alertId}"]`).count()).toBe(0);
    await page.locator('select[name="state"]').selectOption('resolved');
    await page.locator(`[data-alert-id="${alertId}"]`).waitFor();
  });

  it('catches up on alerts raised while its connection was down', async () => {
    await page.goto('/console');
    const connection = page.getByTestId('connection');
    await expect.poll(() => connection.getAttribute('class')).toContain('conn-live');
    await page.context().setOffline(true);
    await expect.poll(() => connection.getAttribute('class'), { timeout: 10_000 }).toContain('conn-offline');

    await community.sos(community.devices.liBand);
    const missed = page.locator('[data-rule="event.sos"]', { hasText: '李建国' });
    await new Promise((r) => setTimeout(r, 500));
    expect(await missed.count()).toBe(0);

    await page.context().setOffline(false);
    await missed.waitFor({ timeout: 15_000 });
    expect(await connection.getAttribute('class')).toContain('conn-live');
  });

  it('shows homes as tiles by status and a resident page with charts of a day and a week', async () => {
    await page.goto('/homes');
    const wangTile = page.locator('.tile', { hasText: '王秀英' });
    await wangTile.waitFor();
    await expect
      .poll(() => page.locator('.tile', { hasText: '张桂兰' }).getAttribute('data-status'))
      .toBe('device_offline');
    await screenshot(page, 'homes');

    await wangTile.getByRole('link', { name: '王秀英' }).click();
    await page.waitForURL(`**/residents/${community.residents.wang.id}`);
    const heart = page.locator('figure[data-measurement="heartRate"]');
    await heart.locator('canvas').waitFor();
    expect(await heart.getByTestId('chart-summary').textContent()).toMatch(/24 小时：最低 \d+/);
    await page.getByRole('button', { name: '7 天' }).click();
    await expect.poll(() => heart.getByTestId('chart-summary').textContent()).toMatch(/7 天：最低 \d+/);
    await page.getByRole('button', { name: '24 小时' }).click();
    await expect.poll(() => heart.getByTestId('chart-summary').textContent()).toMatch(/^24 小时/);
    expect(await page.getByTestId('resident-alerts').textContent()).toContain('SOS');
    await screenshot(page, 'resident', true);
  });

  it('shows device health with battery, firmware and refused messages by reason', async () => {
    await page.goto('/devices');
    const table = page.getByTestId('device-table');
    await table.waitFor();
    const gas = table.locator('tr[data-device-id="gas-wang-01"]');
    await expect.poll(() => gas.textContent()).toContain('14%');
    expect(await gas.textContent()).toContain('1.4.2');
    await expect
      .poll(() => table.locator('tr[data-device-id="band-li-01"]').textContent())
      .toContain('E_RANGE');
    await screenshot(page, 'devices');
  });
});
