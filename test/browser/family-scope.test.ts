// A family member sees their own relative and nobody else: not on their page, not by typing another
// resident's URL (the page says so, and the API answers 403), and not over the live socket.
import type { Browser, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, logIn, newPerson, PHONE, saveFailure, screenshot } from './browser.ts';
import { readingsStored, startCommunity, type Community, type Login } from './community.ts';

interface Pushed {
  alert: { id: string; residentId: string; ruleId: string };
}

/** Signs in over HTTP and opens a Socket.IO connection with the session cookie, as the browser does. */
async function liveSocket(baseUrl: string, login: Login): Promise<{ socket: Socket; pushed: Pushed[] }> {
  const res = await fetch(`${baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(login),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const socket = io(baseUrl, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
  const pushed: Pushed[] = [];
  socket.on('alert:new', (p: Pushed) => pushed.push(p));
  socket.on('alert:update', (p: Pushed) => pushed.push(p));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, pushed };
}

describe('family access', () => {
  let community: Community;
  let browser: Browser;
  let page: Page;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    [community, browser] = await Promise.all([startCommunity(), launchBrowser()]);
    await readingsStored(community);
    ({ page } = await newPerson(browser, community.baseUrl, { viewport: PHONE }));
  }, 120_000);

  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') await saveFailure(page, task.name);
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await browser?.close();
    await community?.stop();
  });

  it('shows a family member only their own relative, and lets them say "I\'m on it"', async () => {
    await logIn(page, community.logins.family, '/family');
    const cards = page.locator('[data-resident-id]');
    await cards.first().waitFor();
    expect(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-resident-id')))).toEqual([
      community.residents.wang.id,
    ]);
    expect(await page.locator('main').textContent()).not.toContain('李建国');
    // No staff pages in their navigation.
    expect(await page.locator('nav').textContent()).not.toContain('告警');

    await community.sos(community.devices.wangBand);
    const card = cards.first();
    await expect
      .poll(() => card.getByTestId('relative-status').textContent(), { timeout: 5_000 })
      .toContain('需要关注');
    await screenshot(page, 'family');
    const sosRow = card.locator('li', { hasText: 'SOS' });
    await sosRow.getByRole('button', { name: '我来处理' }).click();
    await expect.poll(() => sosRow.locator('.state-acknowledged').textContent()).toContain('正在处理');
    // By name and role, not by account id.
    expect(await sosRow.locator('.state-acknowledged').textContent()).toContain('王磊 · 家属');
    expect(await sosRow.locator('.state-acknowledged').textContent()).not.toMatch(/us_[0-9a-f]/);
    expect(await sosRow.getByRole('button', { name: '我来处理' }).count()).toBe(0);

    // Their notification preferences are theirs to set, and kept.
    const sms = page.locator('input[name="channels"][value="sms"]');
    const wasChecked = await sms.isChecked();
    await sms.setChecked(!wasChecked);
    await page.getByRole('button', { name: '保存' }).click();
    await page.getByRole('status').filter({ hasText: '已保存' }).waitFor();
    await page.reload();
    await expect
      .poll(() => page.locator('input[name="channels"][value="sms"]').isChecked())
      .toBe(!wasChecked);
  });

  it("shows a 403 state for another resident's page by URL, and the API answers 403", async () => {
    const other = community.residents.li.id;
    await page.goto(`/residents/${other}`);
    await page.getByTestId('notice-forbidden').waitFor();
    expect(await page.locator('main').textContent()).not.toContain('李建国');
    await screenshot(page, 'forbidden');

    const statuses = await page.evaluate(async (id) => {
      const get = (p: string) => fetch(p, { credentials: 'same-origin' }).then((r) => r.status);
      return [
        await get(`/api/v1/residents/${id}`),
        await get(`/api/v1/residents/${id}/readings?measurement=heartRate`),
        await get(`/api/v1/alerts?residentId=${id}`),
      ];
    }, other);
    expect(statuses).toEqual([403, 403, 403]);

    // Their own relative's page opens.
    await page.goto(`/residents/${community.residents.wang.id}`);
    await page.locator('h1', { hasText: '王秀英' }).waitFor();
  });

  it("never pushes another resident's alerts to a family member's socket", async () => {
    const family = await liveSocket(community.baseUrl, community.logins.family);
    const staff = await liveSocket(community.baseUrl, community.logins.staff);
    sockets.push(family.socket, staff.socket);

    await community.sos(community.devices.liBand);
    // Staff of the community get Li's SOS, which proves it was pushed at all...
    await expect
      .poll(() => staff.pushed.some((p) => p.alert.residentId === community.residents.li.id))
      .toBe(true);
    // ...and Wang's family, given time to receive it, did not.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(family.pushed.filter((p) => p.alert.residentId !== community.residents.wang.id)).toEqual([]);

    // A socket that asks to act on another resident's alert is refused by the server.
    const liAlert = staff.pushed.find((p) => p.alert.residentId === community.residents.li.id)!.alert;
    const reply = (await family.socket
      .timeout(5_000)
      .emitWithAck('alert:acknowledge', { id: liAlert.id })) as {
      ok: boolean;
    };
    expect(reply.ok).toBe(false);
    // Catching up after a reconnect returns only their relative's alerts too.
    const sync = (await family.socket.timeout(5_000).emitWithAck('alerts:sync', { since: 0 })) as {
      alerts: { residentId: string }[];
    };
    expect(sync.alerts.length).toBeGreaterThan(0);
    expect(sync.alerts.every((a) => a.residentId === community.residents.wang.id)).toBe(true);
  });
});
