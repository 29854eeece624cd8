// The one-tap link page, on the dashboard app: a family member's link shows the alert and takes it on
// as that person, once; a staff link may also close it; forged, expired, used-up and another alert's links
// change nothing and answer 401/403/410 pages; the token opens no other route; requests are rate-limited
// per address and per link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionLink } from '../alerting/alerts/links.ts';
import type { Contact } from '../registry/index.ts';
import { startTestApp, type TestApp } from './test-app.ts';
import { addCommunity, browser, raiseAlert, type Browser } from './test-support.ts';

let anju: TestApp;
let residentId: string;
let daughter: Contact;
let gridWorker: Contact;
let addressCounter = 10;

beforeAll(async () => {
  anju = await startTestApp();
  const community = await addCommunity(anju, 'Links', 2);
  residentId = community.residents[0]!.id;
  daughter = await anju.registry.addContact({
    residentId,
    name: '李娜',
    relation: 'family',
    phone: '+8613800000001',
    channels: ['sms'],
  });
  gridWorker = await anju.registry.addContact({
    residentId,
    name: '陈网格',
    relation: 'grid_worker',
    phone: '+8613800000002',
    channels: ['sms'],
    escalationOrder: 2,
  });
});
afterAll(async () => {
  await anju?.stop();
});

/** A client at an address of its own, so each test starts within the per-address limits. */
function phone(): Browser {
  addressCounter += 1;
  return browser(anju, `127.0.0.${addressCounter}`);
}

async function linkFor(
  alertId: string,
  contact: Contact,
  role: ActionLink['role'],
  createdAt = Date.now(),
): Promise<string> {
  return anju.alerting.alerts.links.create(
    {
      alertId,
      recipient: `contact:${contact.id}`,
      name: contact.name,
      role,
      language: 'zh-CN',
      channel: 'sms',
    },
    createdAt,
  );
}

function press(tab: Browser, token: string, fields: Record<string, string>): Promise<Response> {
  return tab.request('POST', `/t/${token}`, undefined, {
    raw: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

async function newAlert(ruleId = 'event.sos') {
  return raiseAlert(anju, residentId, { ruleId });
}

describe('a family member opens their link', () => {
  it('shows the alert in their language and takes it on as them, once', async () => {
    const alert = await newAlert();
    const token = await linkFor(alert.id, daughter, 'family');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const tab = phone();

    const page = await tab.get(`/t/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('李娜，您好');
    expect(html).toContain('Links resident 1');
    expect(html).toContain('紧急呼叫（SOS）');
    expect(html).toContain('我来处理');
    expect(html).not.toContain('关闭告警'); // family cannot close it
    expect(html).not.toContain('Links / A / 1'); // nor see the home path, which they know

    const english = await tab.request('GET', `/t/${token}`, undefined, {
      headers: { 'accept-language': 'en-GB,en;q=0.9,zh;q=0.5' },
    });
    expect(await english.text()).toContain('I&#39;m on it');

    const done = await press(tab, token, { alert: alert.id, action: 'acknowledge' });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('已记录：您正在处理。');
    const stored = await anju.alerting.alerts.get(alert.id);
    expect(stored).toMatchObject({ state: 'acknowledged', acknowledgedBy: `contact:${daughter.id}` });
    const trail = await anju.alerting.alerts.history(alert.id);
    expect(trail.at(-1)).toMatchObject({
      action: 'acknowledged',
      actor: `contact:${daughter.id}`,
      details: { via: 'link', name: '李娜', channel: 'sms' },
    });

    // Used up: a second press and a reload say so and change nothing.
    const again = await press(tab, token, { alert: alert.id, action: 'acknowledge' });
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('此链接已使用');
    expect((await tab.get(`/t/${token}`)).status).toBe(410);
    expect(await anju.alerting.alerts.history(alert.id)).toHaveLength(trail.length);
  });

  it('tells them who took it on first, and records nothing of theirs', async () => {
    const alert = await newAlert('event.fall');
    const token = await linkFor(alert.id, daughter, 'family');
    await anju.alerting.alerts.acknowledge(alert.id, `contact:${gridWorker.id}`);
    const tab = phone();
    const page = await tab.get(`/t/${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('陈网格 于');
    expect(html).not.toContain('name="action" value="acknowledge"');
    const late = await press(tab, token, { alert: alert.id, action: 'acknowledge' });
    expect(late.status).toBe(409);
    expect(await late.text()).toContain('陈网格 已先接手了此告警。');
    expect((await anju.alerting.alerts.get(alert.id))?.acknowledgedBy).toBe(`contact:${gridWorker.id}`);
    await anju.alerting.alerts.resolve(alert.id, 'system', 'other');
  });
});

describe('a staff link', () => {
  it('takes the alert on, then closes it with an outcome; then the link is spent', async () => {
    const alert = await newAlert('event.smoke');
    const token = await linkFor(alert.id, gridWorker, 'staff');
    const tab = phone();
    const html = await (await tab.get(`/t/${token}`)).text();
    expect(html).toContain('关闭告警');
    expect(html).toContain('Links / A / 1'); // staff see where to go

    expect((await press(tab, token, { alert: alert.id, action: 'acknowledge' })).status).toBe(200);
    const closed = await press(tab, token, { alert: alert.id, action: 'resolve', outcome: 'false_alarm' });
    expect(closed.status).toBe(200);
    expect(await closed.text()).toContain('已记录：告警已关闭。');
    expect(await anju.alerting.alerts.get(alert.id)).toMatchObject({
      state: 'resolved',
      outcome: 'false_alarm',
      resolvedBy: `contact:${gridWorker.id}`,
    });
    expect((await anju.alerting.alerts.history(alert.id)).at(-1)).toMatchObject({
      action: 'resolved',
      details: { via: 'link', name: '陈网格', outcome: 'false_alarm' },
    });
    const after = await tab.get(`/t/${token}`);
    expect(after.status).toBe(410);
    expect(await after.text()).toContain('此告警已由 陈网格');
  });
});

describe('links that must not work', () => {
  it('answers a forged or malformed token 401 and an expired one 410, changing nothing', async () => {
    const alert = await newAlert('event.water_leak');
    const tab = phone();
    for (const bad of ['AAAAAAAAAAAAAAAAAAAAAA', 'short', '%E9%93%BE', 'x'.repeat(100)]) {
      const res = await tab.get(`/t/${bad}`);
      expect(res.status, bad).toBe(401);
      expect(await res.text()).toContain('链接无效');
    }
    // A path that is not even a URL is refused before any route: a problem, not a page.
    expect((await tab.get('/t/%00%ff')).status).toBe(400);
    const forged = await press(tab, 'AAAAAAAAAAAAAAAAAAAAAA', { alert: alert.id, action: 'acknowledge' });
    expect(forged.status).toBe(401);

    const expired = await linkFor(alert.id, daughter, 'family', Date.now() - 25 * 3_600_000);
    const old = await tab.get(`/t/${expired}`);
    expect(old.status).toBe(410);
    expect(await old.text()).toContain('此链接已过期');
    expect((await press(tab, expired, { alert: alert.id, action: 'acknowledge' })).status).toBe(410);
    expect((await anju.alerting.alerts.get(alert.id))?.state).toBe('open');
    await anju.alerting.alerts.resolve(alert.id, 'system', 'other');
  });

  it("cannot act on another alert, nor a family link close one, nor open a closed alert's page", async () => {
    const mine = await newAlert('gas.methane');
    const other = await raiseAlert(anju, (await addCommunity(anju, 'Other', 1)).residents[0]!.id);
    const token = await linkFor(mine.id, daughter, 'family');
    const tab = phone();
    const wrong = await press(tab, token, { alert: other.id, action: 'acknowledge' });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('此链接不属于该告警');
    const close = await press(tab, token, { alert: mine.id, action: 'resolve', outcome: 'other' });
    expect(close.status).toBe(403);
    expect((await anju.alerting.alerts.get(other.id))?.state).toBe('open');
    expect((await anju.alerting.alerts.get(mine.id))?.state).toBe('open');

    // Hostile bodies are refused as problems, not pages, and change nothing.
    for (const raw of ['action=delete&alert=' + mine.id, 'alert=' + mine.id, '%%%', 'a'.repeat(5000)]) {
      const res = await tab.request('POST', `/t/${token}`, undefined, {
        raw,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status, raw.slice(0, 30)).toBeGreaterThanOrEqual(400);
      expect(res.status, raw.slice(0, 30)).toBeLessThan(500);
    }
    const asJson = await tab.post(`/t/${token}`, { alert: mine.id, action: 'resolve', outcome: 'other' });
    expect(asJson.status).toBe(403);

    await anju.alerting.alerts.resolve(mine.id, 'system', 'other');
    const closed = await tab.get(`/t/${token}`);
    expect(closed.status).toBe(410);
    expect(await closed.text()).toContain('此告警已由 Anju');
  });

  it('opens no API: the token is neither a bearer token nor a session', async () => {
    const alert = await newAlert('event.sos.second');
    const token = await linkFor(alert.id, daughter, 'family');
    const client = browser(anju);
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    for (const path of ['/api/v1/alerts', `/api/v1/alerts/${alert.id}`, `/api/v1/residents/${residentId}`]) {
      expect((await client.request('GET', path, undefined, bearer)).status, path).toBe(401);
      const cookie = await client.request('GET', path, undefined, {
        headers: { cookie: `anju_session=${token}` },
      });
      expect(cookie.status, path).toBe(401);
    }
    const ack = await client.request('POST', `/api/v1/alerts/${alert.id}/acknowledge`, {}, bearer);
    expect(ack.status).toBe(401);
    expect((await anju.alerting.alerts.get(alert.id))?.state).toBe('open');
    await anju.alerting.alerts.resolve(alert.id, 'system', 'other');
  });
});

describe('rate limits', () => {
  it('stops an address guessing tokens after 10 misses, with Retry-After', async () => {
    const tab = phone();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await tab.get(`/t/${'B'.repeat(21)}${i % 10}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const refused = await tab.get(`/t/${'C'.repeat(22)}`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('请求过于频繁');
    // Another address is not held back by it.
    expect((await phone().get(`/t/${'C'.repeat(22)}`)).status).toBe(401);
  });

  it('limits requests through one link, from any address', async () => {
    const alert = await newAlert('event.sos.third');
    const token = await linkFor(alert.id, daughter, 'family');
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await phone().get(`/t/${token}`)).status);
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
    expect(statuses[20]).toBe(429);
    // Refused requests changed nothing.
    expect((await anju.alerting.alerts.get(alert.id))?.state).toBe('open');
    await anju.alerting.alerts.resolve(alert.id, 'system', 'other');
  });
});
