// People, not records, in the browser: an admin links a family member's account to the contact record it
// stands for on the contacts tab, and the family member sets voice calls, WeCom (with their user id there)
// and quiet hours on their page; a grid worker chooses DingTalk on the account page;
// escalation then reads both (alerting/alerts and accounts tests check how).
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../../dashboard/test-support.ts';
import { startTestAnju, type TestAnju } from '../harness.ts';
import { launchBrowser, logIn, newPerson, PHONE, saveFailure, screenshot } from './browser.ts';

let anju: TestAnju;
let browser: Browser;
let page: Page | undefined;

beforeAll(async () => {
  [anju, browser] = await Promise.all([startTestAnju({ adminPassword: ADMIN_PASSWORD }), launchBrowser()]);
}, 120_000);
afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await saveFailure(page, task.name);
});
afterAll(async () => {
  await browser?.close();
  await anju?.stop();
});

describe('people behind contacts', () => {
  it('an admin links the account, the family member chooses calls and quiet hours', async () => {
    const resident = await anju.registry.addResident({
      name: '王秀英',
      livesAlone: true,
      address: { community: '南湖社区', compound: '幸福里', building: '3', home: '301' },
    });
    const contact = await anju.registry.addContact({
      residentId: resident.id,
      name: '王丽',
      relation: 'family',
      phone: '13800000001',
      channels: ['sms'],
    });
    const user = await anju.accounts.users.create({
      username: 'wang.li',
      displayName: '王丽',
      role: 'family',
      password: 'lantern-violet-93',
      residents: [resident.id],
    });
    const base = `http://127.0.0.1:${anju.ports.http}`;

    const admin = await newPerson(browser, base);
    page = admin.page;
    await logIn(page, { username: 'admin', password: ADMIN_PASSWORD }, '/console');
    await page.goto('/admin');
    await page.getByRole('tab', { name: '联系人' }).click();
    await page.locator('select[name="contactsResident"]').selectOption(resident.id);
    const account = page.locator('select[name="contactAccount"]');
    await expect.poll(() => account.locator('option').count()).toBe(2);
    await account.selectOption(user.id);
    await expect
      .poll(async () => (await anju.accounts.contactLinks.ofUser(user.id))?.contactId)
      .toBe(contact.id);
    await screenshot(page, 'admin-contact-account');
    await admin.context.close();

    const family = await newPerson(browser, base, { viewport: PHONE });
    page = family.page;
    await logIn(page, { username: 'wang.li', password: 'lantern-violet-93' }, '/family');
    await page.locator('input[name="channels"][value="phone"]').check();
    // A work app asks for her user id there once chosen.
    await page.locator('input[name="channels"][value="wecom"]').check();
    await page.locator('input[name="wecomUserId"]').fill('wang.li');
    await page.locator('input[name="quiet"]').check();
    await page.locator('input[name="quietFrom"]').fill('22:30');
    await page.locator('input[name="quietTo"]').fill('06:30');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    expect(await anju.accounts.users.quietHours(user.id)).toEqual({
      from: '22:30',
      to: '06:30',
      timeZone: 'Asia/Shanghai',
    });
    expect((await anju.accounts.users.get(user.id))?.channels).toContain('phone');
    // What escalation will be told about this contact.
    const choice = (await anju.accounts.contactLinks.choices([contact.id])).get(contact.id);
    expect(choice?.quietHours).toMatchObject({ from: '22:30', to: '06:30' });
    expect(choice).toMatchObject({ channels: ['app', 'phone', 'wecom'], wecomUserId: 'wang.li' });
    await page.reload();
    await expect.poll(() => page!.locator('input[name="quietFrom"]').inputValue()).toBe('22:30');
    await screenshot(page, 'family-quiet-hours', true);
  }, 60_000);

  it('a grid worker chooses DingTalk, with their user id there, on the account page', async () => {
    const resident = await anju.registry.addResident({
      name: '李桂兰',
      livesAlone: true,
      address: { community: '南湖社区', compound: '幸福里', building: '5', home: '502' },
    });
    const contact = await anju.registry.addContact({
      residentId: resident.id,
      name: '赵网格',
      relation: 'grid_worker',
      phone: '13800000002',
      channels: ['sms'],
    });
    const user = await anju.accounts.users.create({
      username: 'zhao.grid',
      displayName: '赵网格',
      role: 'staff',
      password: 'harbor-quartz-58',
      communities: [resident.home.communityId],
    });
    await anju.accounts.contactLinks.link(user.id, contact.id);
    const staff = await newPerson(browser, `http://127.0.0.1:${anju.ports.http}`);
    page = staff.page;
    await logIn(page, { username: 'zhao.grid', password: 'harbor-quartz-58' }, '/console');
    await page.goto('/account');
    await page.locator('input[name="channels"][value="dingtalk"]').check();
    await page.locator('input[name="dingtalkUserId"]').fill('zhao-0571');
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    const choice = (await anju.accounts.contactLinks.choices([contact.id])).get(contact.id);
    expect(choice).toMatchObject({ channels: ['app', 'dingtalk'], dingtalkUserId: 'zhao-0571' });
  }, 60_000);
});
