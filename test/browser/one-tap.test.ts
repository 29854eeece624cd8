// A daughter's phone at 3 a.m.: her mother presses SOS, an SMS reaches the (local) Alibaba Cloud SMS
// service with a one-tap link in it, she opens the link in Chromium on a phone-sized screen and presses
// "我来处理". The console sees at once who took it on and how, and the next escalation step (the grid
// worker) is never sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AliyunServer } from '../../alerting/channels/providers/testing/aliyun-server.ts';
import { ADMIN_PASSWORD, openSocket, record, signedIn } from '../../dashboard/test-support.ts';
import { topicFor } from '../../firmware-protocol/index.ts';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from '../harness.ts';
import { freePort } from '../influxd.ts';
import { launchBrowser, logIn, newPerson, PHONE, saveFailure, screenshot } from './browser.ts';

const credentials = { accessKeyId: 'LTAI5tAnjuLinks', accessKeySecret: 'aliyun-secret-for-links' };
/** The grid worker's step comes this long after the alert opened, if nobody has taken it on. */
const SECOND_STEP_MIN = 0.2;

let provider: AliyunServer;
let anju: TestAnju;
let browser: Browser;
let page: Page | undefined;
let dir: string;
let device: MqttClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  process.env.ANJU_ALIYUN_ACCESS_KEY_SECRET = credentials.accessKeySecret;
  provider = await new AliyunServer(credentials).start();
  // Links name Anju's own address, so the port is chosen before Anju starts.
  const httpPort = await freePort();
  dir = mkdtempSync(path.join(tmpdir(), 'anju-one-tap-'));
  const file = path.join(dir, 'notifications.yaml');
  writeFileSync(
    file,
    [
      `sms: { provider: aliyun, endpoint: '${provider.url}', accessKeyId: ${credentials.accessKeyId}, signName: 安居, templateCode: SMS_1, link: url }`,
      `voice: { provider: aliyun, endpoint: '${provider.url}', accessKeyId: ${credentials.accessKeyId}, ttsCode: TTS_1, answerWithinSec: 30 }`,
      `links: { baseUrl: 'http://127.0.0.1:${httpPort}' }`,
      'escalation:',
      '  default:',
      '    steps:',
      '      - { afterMin: 0, notify: [console, family] }',
      `      - { afterMin: ${SECOND_STEP_MIN}, notify: [grid_worker] }`,
      '    renotifyEveryMin: null',
    ].join('\n'),
  );
  [anju, browser] = await Promise.all([
    startTestAnju({ notificationsFile: file, httpPort, adminPassword: ADMIN_PASSWORD }),
    launchBrowser(),
  ]);
}, 120_000);

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail') await saveFailure(page, task.name);
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await device?.endAsync();
  await browser?.close();
  await anju?.stop();
  await provider?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('one tap from an SMS', () => {
  it('takes the alert on from the phone, shows it on the console at once and stops escalation', async () => {
    const resident = await anju.registry.addResident({
      name: '王秀英',
      livesAlone: true,
      address: { community: '南湖社区', compound: '幸福里', building: '3', home: '301' },
    });
    const daughter = await anju.registry.addContact({
      residentId: resident.id,
      name: '王丽',
      relation: 'family',
      phone: '13800000001',
      channels: ['sms'],
      escalationOrder: 1,
    });
    await anju.registry.addContact({
      residentId: resident.id,
      name: '陈网格',
      relation: 'grid_worker',
      phone: '13800000002',
      channels: ['sms'],
      escalationOrder: 2,
    });
    const staff = await signedIn(anju, 'staff', { communities: [resident.home.communityId] });
    const consoleSocket = await openSocket(anju, { tab: staff });
    sockets.push(consoleSocket);
    const pushed = record(consoleSocket, ['alert:new', 'alert:update']);

    const { secret } = await anju.registry.addDevice({
      id: 'band-link-1',
      kind: 'wearable',
      residentId: resident.id,
    });
    device = await connectDevice(anju, { id: 'band-link-1', secret });
    await device.publishAsync(
      topicFor('band-link-1', 'event'),
      JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
      { qos: 1 },
    );

    // The SMS as the provider received it: the template's fourth variable is the link.
    const sms = await waitFor(
      () => provider.requests.find((r) => r.action === 'SendSms' && r.params.PhoneNumbers === '13800000001'),
      10_000,
      20,
    );
    const params = JSON.parse(sms.params.TemplateParam!) as Record<string, string>;
    expect(params).toMatchObject({ name: '王秀英', rule: '紧急呼叫（SOS）', severity: '危急' });
    const link = params.link!;
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${anju.ports.http}/t/[A-Za-z0-9_-]{22}$`));
    expect(link.length).toBeLessThan(60);
    const [alert] = await anju.alerting.alerts.list({ residentIds: [resident.id] });
    expect(alert?.state).toBe('open');

    ({ page } = await newPerson(browser, `http://127.0.0.1:${anju.ports.http}`, { viewport: PHONE }));
    await page.goto(link);
    await expect.poll(() => page!.locator('h1').textContent()).toBe('安居 · 告警');
    const facts = page.locator('.facts');
    expect(await facts.textContent()).toContain('王秀英');
    expect(await facts.textContent()).toContain('尚无人接手');
    // Fits the phone: the button is on screen without scrolling sideways.
    const button = page.getByRole('button', { name: '我来处理' });
    const box = (await button.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    expect(box.height).toBeGreaterThanOrEqual(44); // a thumb's target
    await screenshot(page, 'one-tap-link');

    const pressedAt = Date.now();
    await button.click();
    await expect.poll(() => page!.locator('.notice.done').textContent()).toContain('已记录：您正在处理。');
    expect(await facts.textContent()).toContain('王丽 于');
    await screenshot(page, 'one-tap-link-done');

    // The console hears of it at once, by name and "via link".
    const update = await waitFor(
      () =>
        pushed.find(
          (p) =>
            p.event === 'alert:update' &&
            (p.payload as { alert: { state: string } }).alert.state === 'acknowledged',
        ),
      5000,
    );
    const { alert: seen, audit } = update.payload as {
      alert: { id: string; acknowledgedBy: string };
      audit: { actor: string; details: Record<string, unknown> };
    };
    expect(seen).toMatchObject({ id: alert!.id, acknowledgedBy: `contact:${daughter.id}` });
    expect(audit).toMatchObject({
      actor: `contact:${daughter.id}`,
      details: { via: 'link', name: '王丽', channel: 'sms' },
    });
    const listed = await staff.get(`/api/v1/alerts/${alert!.id}`);
    const view = (await listed.json()) as { alert: { people: Record<string, unknown> } };
    expect(view.alert.people[`contact:${daughter.id}`]).toEqual({ name: '王丽', role: 'family' });

    // A staff console (a second page, at a desk) names who took it on, and how.
    const desk = await newPerson(browser, `http://127.0.0.1:${anju.ports.http}`);
    await logIn(desk.page, { username: staff.username, password: staff.password }, '/console');
    const row = desk.page.locator('[data-rule="event.sos"]');
    await row.locator('button').click();
    const panel = desk.page.getByTestId('alert-panel');
    const history = panel.getByTestId('alert-history');
    await expect.poll(() => history.textContent()).toContain('王丽');
    expect(await history.getByTestId('via-link').textContent()).toContain('通过短信中的链接');
    await screenshot(desk.page, 'one-tap-console');
    await desk.context.close();

    // Escalation stopped: nothing is due, and the grid worker's step never goes out.
    expect(await anju.alerting.alerts.nextEscalationAt()).toBeNull();
    expect(pressedAt).toBeLessThan(alert!.openedAt + SECOND_STEP_MIN * 60_000);
    const secondStepDue = alert!.openedAt + SECOND_STEP_MIN * 60_000;
    await new Promise((r) => setTimeout(r, Math.max(0, secondStepDue - Date.now()) + 1500));
    expect(provider.requests.filter((r) => r.action === 'SendSms').map((r) => r.params.PhoneNumbers)).toEqual(
      ['13800000001'],
    );

    // Reopening the used link says so, in English for an English phone.
    const { page: english } = await newPerson(browser, `http://127.0.0.1:${anju.ports.http}`, {
      viewport: PHONE,
      locale: 'en-GB',
    });
    const again = await english.goto(link);
    expect(again?.status()).toBe(410);
    expect(await english.locator('.notice').textContent()).toContain('This link has been used');
    await english.context().close();
  }, 60_000);

  it('shows on the console that a son was called and answered', async () => {
    const resident = await anju.registry.addResident({
      name: '李桂芳',
      livesAlone: true,
      address: { community: '南湖社区', compound: '幸福里', building: '5', home: '102' },
    });
    await anju.registry.addContact({
      residentId: resident.id,
      name: '李强',
      relation: 'family',
      phone: '13800000005',
      channels: ['phone'],
      escalationOrder: 1,
    });
    const staff = await signedIn(anju, 'staff', { communities: [resident.home.communityId] });
    const { secret } = await anju.registry.addDevice({
      id: 'band-call-1',
      kind: 'wearable',
      residentId: resident.id,
    });
    const band = await connectDevice(anju, { id: 'band-call-1', secret });
    try {
      await band.publishAsync(
        topicFor('band-call-1', 'event'),
        JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
        { qos: 1 },
      );
      // The call is placed, then counted only once the provider's call record says it was answered.
      await waitFor(
        () =>
          provider.requests.find(
            (r) => r.action === 'SingleCallByTts' && r.params.CalledNumber === '13800000005',
          ),
        10_000,
        20,
      );
      const desk = await newPerson(browser, `http://127.0.0.1:${anju.ports.http}`);
      await logIn(desk.page, { username: staff.username, password: staff.password }, '/console');
      await desk.page.locator('[data-rule="event.sos"]', { hasText: '李桂芳' }).locator('button').click();
      const panel = desk.page.getByTestId('alert-panel');
      await expect
        .poll(() => panel.getByTestId('delivery-answered').count(), { timeout: 20_000, interval: 250 })
        .toBe(1);
      const called = panel.locator('li', { has: desk.page.getByTestId('delivery-answered') });
      expect(await called.textContent()).toContain('李强 · 家属');
      expect(await called.textContent()).toContain('已接听电话');
      await desk.context.close();
    } finally {
      await band.endAsync();
    }
  }, 60_000);
});
