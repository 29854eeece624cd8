// The console as people on duty need it (issue 16): the whole home charted by room, the emergency card
// with tap-to-call and its access log, people and evidence in words on the alert panel, homes tiles
// that say "never" only when nothing reported, and account care (own sessions, two-step sign-in,
// disabling a user) in Chromium against a real Anju with devices on MQTT.
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../dashboard/accounts/totp.ts';
import { qrCodeDataUrl } from '../../dashboard/qr-code.ts';
import { connectDevice, waitFor } from '../harness.ts';
import { launchBrowser, logIn, newPerson, saveFailure, screenshot } from './browser.ts';
import { readingsStored, startCommunity, type Community } from './community.ts';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describe('the console on duty', () => {
  let community: Community;
  let browser: Browser;
  let staff: Page;
  /** Pages of other people opened by a test, closed after it. */
  const others: Page[] = [];

  beforeAll(async () => {
    [community, browser] = await Promise.all([startCommunity(), launchBrowser()]);
    await readingsStored(community);
    // A kitchen sensor of Wang's home that belongs to nobody in particular: the heating fails, the
    // kitchen cools from 20 °C to 15 °C over the last hour.
    const { body } = await community.api<{ resident: { home: { homeId: string } } }>(
      'GET',
      `/api/v1/residents/${community.residents.wang.id}`,
    );
    const { body: added } = await community.api<{ secret: string }>('POST', '/api/v1/devices', {
      id: 'room-wang-kitchen',
      kind: 'env_monitor',
      homeId: body.resident.home.homeId,
      room: 'kitchen',
    });
    const kitchen = await connectDevice(community.anju, { id: 'room-wang-kitchen', secret: added.secret });
    const t0 = Date.now() - 60 * 60_000;
    for (let i = 0; i < 6; i++)
      await kitchen.publishAsync(
        'anju/v1/room-wang-kitchen/telemetry',
        JSON.stringify({ ts: t0 + i * 600_000, seq: i + 1, temperature: 20 - i, humidity: 50 }),
        { qos: 1 },
      );
    await kitchen.endAsync();
    await waitFor(() => community.anju.journal.depth('store') === 0);
    ({ page: staff } = await newPerson(browser, community.baseUrl));
    await logIn(staff, community.logins.staff, '/console');
  }, 180_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') {
      await saveFailure(staff, task.name);
      for (const [i, p] of others.entries()) await saveFailure(p, `${task.name}-${i}`);
    }
    for (const p of others.splice(0)) await p.context().close();
  });

  afterAll(async () => {
    await browser?.close();
    await community?.stop();
  });

  async function person(login: { username: string; password: string }, start: string, locale = 'zh-CN') {
    const { page } = await newPerson(browser, community.baseUrl, { locale });
    others.push(page);
    await logIn(page, login, start);
    return page;
  }

  it("charts every device of the home by room, the home's own sensors included", async () => {
    await staff.goto(`/residents/${community.residents.wang.id}`);
    const charts = staff.getByTestId('home-charts');
    const kitchen = charts.locator('[data-room="kitchen"]');
    const cold = kitchen.locator('figure[data-measurement="temperature"][data-device="room-wang-kitchen"]');
    await cold.locator('canvas').waitFor();
    expect(await cold.getByTestId('chart-summary').textContent()).toMatch(/最低 15°.*最高 20°.*最新 15°/);
    expect(await kitchen.locator('h3').textContent()).toBe('厨房');
    // The wearable first, then the rooms: the living room's monitor reports motion as well as climate.
    expect(await charts.locator('.room-group h3').allTextContents()).toEqual(['手环', '客厅', '厨房']);
    await charts.locator('[data-room="wearable"] figure[data-measurement="heartRate"] canvas').waitFor();
    expect(await charts.locator('[data-room="living"] li[data-measurement="motion"]').textContent()).toMatch(
      /人体移动\s*共 \d+ 次上报/,
    );
    await screenshot(staff, 'resident-home', true);
  });

  it('keeps an emergency card staff write, with tap-to-call, a photo and who opened it', async () => {
    await staff.goto(`/residents/${community.residents.wang.id}`);
    const card = staff.getByTestId('emergency-card');
    await card.getByRole('button', { name: '编辑信息卡' }).click();
    const form = card.getByTestId('card-form');
    await form.locator('input[name="phone"]').fill('138 0000 0009');
    await form.locator('textarea[name="medications"]').fill('氨氯地平 5mg 每早一次');
    await form.locator('textarea[name="allergies"]').fill('青霉素');
    await form.locator('input[name="doctorName"]').fill('李医生');
    await form.locator('input[name="doctorPhone"]').fill('+862161234567');
    await form.locator('textarea[name="keySafe"]').fill('门口左侧钥匙盒，密码问网格员');
    await form
      .locator('input[name="photo"]')
      .setInputFiles({ name: 'wang.png', mimeType: 'image/png', buffer: PNG });
    await card.getByTestId('card-photo').waitFor();
    await form.getByRole('button', { name: '保存' }).click();
    await card.getByTestId('card-allergies').waitFor();

    expect(await card.getByTestId('call-resident').getAttribute('href')).toBe('tel:+8613800000009');
    const contacts = await card
      .getByTestId('call-contact')
      .evaluateAll((as) =>
        as.map((a) => (a as unknown as { getAttribute(n: string): string }).getAttribute('href')),
      );
    expect(contacts).toEqual(['tel:+8613800000001', 'tel:+8613800000002']);
    expect(
      await card.getByTestId('card-photo').evaluate((img) => (img as { naturalWidth?: number }).naturalWidth),
    ).toBe(1);
    expect(await card.textContent()).toContain('最后修改：刘社工 · 工作人员');

    // The family sees the card, cannot edit it, and sees who opened it.
    const family = await person(community.logins.family, '/family');
    await family.goto(`/residents/${community.residents.wang.id}`);
    const theirs = family.getByTestId('emergency-card');
    await theirs.getByTestId('card-allergies').waitFor();
    expect(await theirs.getByRole('button', { name: '编辑信息卡' }).count()).toBe(0);
    await theirs.locator('summary').click();
    const log = await theirs.getByTestId('card-access').textContent();
    expect(log).toContain('王磊 · 家属');
    expect(log).toContain('刘社工 · 工作人员');
    await screenshot(family, 'emergency-card', true);
  });

  it('names recipients and evidence in words on the alert panel, in Chinese and English, with the card', async () => {
    await staff.goto('/console');
    await expect.poll(() => staff.getByTestId('connection').getAttribute('class')).toContain('conn-live');
    await community.sos(community.devices.wangBand);
    const row = staff.locator('[data-rule="event.sos"]', { hasText: '王秀英' });
    await row.waitFor();
    await row.locator('button').click();
    const panel = staff.getByTestId('alert-panel');
    await expect
      .poll(() => panel.getByTestId('delivery-recipient').first().textContent())
      .toBe('南湖社区 · 社区值班台');
    expect(await panel.locator('dt[data-evidence="pressedAt"]').textContent()).toBe('按下时间');
    await panel.getByTestId('emergency-card').getByTestId('card-allergies').waitFor();
    expect(await panel.getByTestId('emergency-card').getByTestId('call-resident').getAttribute('href')).toBe(
      'tel:+8613800000009',
    );
    await screenshot(staff, 'alert-panel-card', true);

    await staff.getByTestId('language').selectOption('en');
    await expect.poll(() => panel.locator('dt[data-evidence="pressedAt"]').textContent()).toBe('Pressed at');
    expect(await panel.getByTestId('delivery-recipient').first().textContent()).toBe(
      '南湖社区 · community console',
    );
    await staff.getByTestId('language').selectOption('zh-CN');
  });

  it('says "never" on a homes tile only when no device of the home ever reported', async () => {
    await staff.goto('/homes');
    const zhang = staff.locator('.tile', { hasText: '张桂兰' });
    await expect.poll(() => zhang.getByTestId('tile-activity').textContent()).toBe('该户设备从未上报');
    expect(await zhang.getAttribute('data-status')).toBe('device_offline');
    const wang = staff.locator('.tile', { hasText: '王秀英' });
    expect(await wang.getByTestId('tile-activity').textContent()).not.toContain('从未');
  });

  it('shows my sessions and ends the others; sets up two-step sign-in from the otpauth URI', async () => {
    const laptop = await person(community.logins.staff, '/console');
    await staff.getByTestId('who').click();
    await staff.waitForURL('**/account');
    const table = staff.getByTestId('my-sessions');
    await expect.poll(() => table.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    expect(await table.locator('tr[data-current="true"]').textContent()).toContain('当前浏览器');
    await screenshot(staff, 'account');
    await staff.getByTestId('end-others').click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    await laptop.goto('/console');
    await laptop.waitForURL('**/login');

    const totpCard = staff.getByTestId('totp');
    await totpCard.getByRole('button', { name: '设置' }).click();
    const uri = (await totpCard.getByTestId('totp-uri').textContent())!;
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    // The QR code shows the same link, drawn (and so scanned) as qrcode draws it; the page shows it.
    const qr = totpCard.getByTestId('totp-qr');
    expect(await qr.getAttribute('src')).toBe(await qrCodeDataUrl(uri));
    expect(await qr.evaluate((img) => (img as { naturalWidth?: number }).naturalWidth)).toBeGreaterThan(0);
    const secret = (await totpCard.getByTestId('totp-secret').textContent())!;
    await totpCard.locator('input[name="totpCode"]').fill(totp(base32Decode(secret), Date.now()));
    await totpCard.locator('input[name="currentPassword"]').fill(community.logins.staff.password);
    await totpCard.getByRole('button', { name: '开启' }).click();
    await expect.poll(() => totpCard.getByTestId('totp-state').textContent()).toContain('已开启');
  });

  it('lets an admin disable a user, who then cannot sign in, and turn off their second factor', async () => {
    const admin = await person(community.logins.admin, '/console');
    await admin.goto('/admin');
    await admin.getByRole('tab', { name: '用户' }).click();
    const row = admin.locator(`tr[data-username="${community.logins.staff.username}"]`);
    await row.getByRole('button', { name: '关闭两步验证' }).click();
    await expect.poll(() => row.getByRole('button', { name: '关闭两步验证' }).count()).toBe(0);
    await row.getByRole('button', { name: '停用' }).click();
    await row.getByTestId('user-disabled').waitFor();
    await screenshot(admin, 'admin-users');

    // The staff member's open page is signed out, and signing in again is refused.
    await staff.goto('/console');
    await staff.waitForURL('**/login');
    await staff.locator('input[name="username"]').fill(community.logins.staff.username);
    await staff.locator('input[name="password"]').fill(community.logins.staff.password);
    await staff.locator('form button[type="submit"]').click();
    await staff.locator('.form-error, [role="alert"]').first().waitFor();
    expect(new URL(staff.url()).pathname).toBe('/login');

    await row.getByRole('button', { name: '启用' }).click();
    await expect.poll(() => row.getByTestId('user-disabled').count()).toBe(0);
    await logIn(staff, community.logins.staff, '/console');
  });
});
