// The console speaks the language the browser asks for, switches when the user picks the other one and
// remembers it; the admin pages register a device and show its secret once.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, totp } from '../../dashboard/accounts/totp.ts';
import { connectDevice } from '../harness.ts';
import { launchBrowser, logIn, newPerson, PHONE, saveFailure, screenshot } from './browser.ts';
import { startCommunity, type Community } from './community.ts';

describe('language and administration', () => {
  let community: Community;
  let browser: Browser;
  /** The page of the running test, for the failure screenshot and closing. */
  let current: Page | undefined;

  beforeAll(async () => {
    [community, browser] = await Promise.all([startCommunity(), launchBrowser()]);
  }, 120_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await saveFailure(current, task.name);
    await current?.context().close();
    current = undefined;
  });

  /** A fresh browser context for this test, closed (and screenshotted on failure) after it. */
  async function open(options: Parameters<typeof newPerson>[2] = {}): Promise<Page> {
    ({ page: current } = await newPerson(browser, community.baseUrl, options));
    return current;
  }

  afterAll(async () => {
    await browser?.close();
    await community?.stop();
  });

  it('follows the browser language, switches on request and remembers the choice', async () => {
    const page = await open({ locale: 'en-US' });
    await page.goto('/login');
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await screenshot(page, 'login');

    await page.getByTestId('language').selectOption('zh-CN');
    await page.getByRole('heading', { name: '登录' }).waitFor();
    expect(await page.locator('label', { hasText: '用户名' }).count()).toBe(1);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');

    await logIn(page, community.logins.staff, '/console');
    await page.getByRole('heading', { name: '告警台' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: '告警台' }).waitFor();

    await page.getByTestId('language').selectOption('en');
    await page.getByRole('heading', { name: 'Alert console' }).waitFor();
    expect(await page.locator('nav').textContent()).toContain('Homes');
    expect(await page.title()).toContain('Alerts');
  });

  it('asks a staff member whose second factor is on for the code from their app, and lets them in with it', async () => {
    const {
      body: { user },
    } = await community.api<{ user: { id: string; username: string } }>('POST', '/api/v1/users', {
      username: 'zhou.twofactor',
      displayName: '周社工',
      role: 'staff',
      language: 'en',
      password: 'quiet-river-stone-8',
      communities: [community.residents.wang.communityId],
    });
    const secret = base32Encode(Buffer.from('anju-browser-totp-20'));
    await community.anju.accounts.users.setTotp(user.id, secret);
    const page = await open({ locale: 'en-US' });
    await page.goto('/login');
    await page.locator('input[name="username"]').fill(user.username);
    await page.locator('input[name="password"]').fill('quiet-river-stone-8');
    await page.locator('form button[type="submit"]').click();
    const code = page.getByTestId('login-code');
    await code.waitFor();
    await code.fill('000000');
    await page.locator('form button[type="submit"]').click();
    await page.getByTestId('login-error').getByText('wrong or was used').waitFor();
    await code.fill(totp(base32Decode(secret), Date.now()));
    await page.locator('form button[type="submit"]').click();
    await page.waitForURL((url) => url.pathname === '/console', { timeout: 10_000 });
  });

  it('is usable on a phone: the console fits the screen without sideways scrolling', async () => {
    const page = await open({ viewport: PHONE });
    await logIn(page, community.logins.staff, '/console');
    await community.sos(community.devices.liBand);
    await page.locator('[data-rule="event.sos"]').waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-phone');
  });

  it('lets an admin register a device and shows its secret once', async () => {
    const page = await open();
    await logIn(page, community.logins.admin, '/console');
    await page.getByRole('link', { name: '管理' }).click();
    await page.getByRole('tab', { name: '设备' }).click();
    await page.locator('input[name="deviceId"]').fill('water-zhang-01');
    await page.locator('select[name="kind"]').selectOption('water_meter');
    await page.locator('select[name="residentId"]').selectOption(community.residents.zhang.id);
    await page.locator('select[name="room"]').selectOption('kitchen');
    await page.getByRole('button', { name: '添加' }).click();
    const secret = page.getByTestId('device-secret');
    await secret.waitFor();
    const shown = (await secret.locator('code').nth(1).textContent())?.trim() ?? '';
    expect(shown.length).toBeGreaterThanOrEqual(20);
    expect(await page.locator('td', { hasText: 'water-zhang-01' }).count()).toBe(1);
    await screenshot(page, 'admin');

    // The secret works: the new meter connects with it.
    const client = await connectDevice(community.anju, { id: 'water-zhang-01', secret: shown });
    await client.endAsync();

    // Shown once: after a reload it is gone.
    await page.reload();
    await page.getByRole('tab', { name: '设备' }).click();
    await page.locator('td', { hasText: 'water-zhang-01' }).waitFor();
    expect(await page.getByTestId('device-secret').count()).toBe(0);
  });

  it("lets an admin change one resident's rule thresholds, refusing values that make no valid rules", async () => {
    const page = await open();
    await logIn(page, community.logins.admin, '/console');
    await page.goto('/admin');
    await page.getByRole('tab', { name: '规则阈值' }).click();
    await page.locator('select[name="rulesResident"]').selectOption(community.residents.wang.id);
    const rules = page.locator('textarea[name="rules"]');
    await expect.poll(() => rules.inputValue()).toBe('{}');

    await rules.fill('{"vitals": {"pulse": {"warningAtOrAbove": "fast"}}}');
    await page.getByRole('button', { name: '保存' }).click();
    await expect
      .poll(() => page.getByTestId('rules-error').textContent())
      .toContain('vitals.pulse.warningAtOrAbove');

    await rules.fill('{"vitals": {"pulse": {"warningAtOrAbove": 120}}}');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    const stored = await community.api<{ overrides: object }>(
      'GET',
      `/api/v1/residents/${community.residents.wang.id}/rules`,
    );
    expect(stored.body.overrides).toEqual({ vitals: { pulse: { warningAtOrAbove: 120 } } });
  });

  it("lets an admin set a home's time zone, which the rules and the resident page then use", async () => {
    const wang = community.residents.wang;
    const homeId = (await community.anju.registry.getResident(wang.id))!.home.homeId;
    const page = await open();
    await logIn(page, community.logins.admin, '/console');
    await page.goto('/admin');
    await page.locator('select[name="zoneHome"]').selectOption(homeId);
    await page.locator('input[name="timeZone"]').fill('Europe/Berlin');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '时区已保存' }).waitFor();
    expect(await community.anju.registry.timeZoneOf(wang.id)).toBe('Europe/Berlin');
    await page.goto(`/residents/${wang.id}`);
    await page.getByText('Europe/Berlin（本户设置）').waitFor();
  });
});
