// Work notifications inside escalation: a staff member who chose WeCom (with their user id kept with
// their account) gets the alert in WeCom with their one-tap link as the card's button; when WeCom cannot
// reach them, escalation moves on to their next channel, as for SMS. DingTalk accepts a message before it
// knows the person: only its send result, read back within confirmWithinMs, says whether they were
// reached, and a user id it names invalid fails over like WeCom's refusal.
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { withPeople, type PersonChoice } from '../alerts/people.ts';
import { parseEscalationPolicies } from '../alerts/policy.ts';
import { AlertService } from '../alerts/service.ts';
import {
  raise,
  RecordingChannel,
  residentDirectory,
  settableClock,
  T0,
  testContact,
} from '../alerts/test-support.ts';
import { DingtalkApp } from './providers/dingtalk.ts';
import { WecomApp } from './providers/wecom.ts';
import { WorkAppServer } from './providers/testing/work-app-server.ts';
import { workAppChannel } from './work-apps.ts';

const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const STAFF = testContact({
  id: 'ct_staff',
  name: '陈网格',
  relation: 'staff',
  phone: '13800000009',
  channels: ['sms'],
});

const directory = residentDirectory([STAFF], '幸福里 / 3 / 301');

async function setup(choice: Partial<PersonChoice>) {
  const wecom = await new WorkAppServer({
    platform: 'wecom',
    appId: 'ww0123456789abcdef',
    secret: 'wecom-secret',
    agentId: 1000002,
    users: ['chenwang'],
  }).start();
  closers.push(() => wecom.close());
  const dingtalk = await new WorkAppServer({
    platform: 'dingtalk',
    appId: 'dingabcdefghijklmn',
    secret: 'dingtalk-secret',
    agentId: 2345678901,
    users: ['chenwang'],
  }).start();
  closers.push(() => dingtalk.close());
  // The channel's waits for DingTalk's send result move this clock instead of taking real time.
  let t = T0;
  const waited: number[] = [];
  const sms = new RecordingChannel('sms');
  const person: PersonChoice = {
    channels: ['wecom', 'sms'],
    language: 'zh-CN',
    quietHours: null,
    disabled: false,
    ...choice,
  };
  const service = await AlertService.open({
    dataDir: tempDir(),
    clock: settableClock(),
    directory: withPeople(directory, { choices: async () => new Map([['ct_staff', person]]) }),
    policies: parseEscalationPolicies(
      'default: { steps: [{ afterMin: 0, notify: [staff] }], renotifyEveryMin: null, failover: true }',
    ),
    channels: [
      workAppChannel(
        new WecomApp({
          endpoint: wecom.url,
          corpId: 'ww0123456789abcdef',
          corpSecret: 'wecom-secret',
          agentId: 1000002,
        }),
        { retryWithinMs: 0 },
      ),
      workAppChannel(
        new DingtalkApp({
          endpoint: dingtalk.url,
          appKey: 'dingabcdefghijklmn',
          appSecret: 'dingtalk-secret',
          agentId: 2345678901,
        }),
        {
          retryWithinMs: 0,
          confirmWithinMs: 10_000,
          now: () => t,
          sleep: async (ms) => {
            waited.push(ms);
            t += ms;
          },
        },
      ),
      sms,
    ],
    links: { baseUrl: 'https://anju.example.cn/', ttlMs: 3_600_000 },
  });
  closers.push(() => service.close());
  return { wecom, dingtalk, waited, sms, service };
}

const LINK = /^https:\/\/anju\.example\.cn\/t\/[A-Za-z0-9_-]{22}$/;

describe('WeCom in escalation', () => {
  it('tells a staff member who chose WeCom there, with their one-tap link as the button, and texts nobody', async () => {
    const { wecom, sms, service } = await setup({ wecomUserId: 'chenwang' });
    const { alert } = (await service.apply(
      raise({ ruleId: 'event.sos', severity: 'critical', summary: 'SOS pressed' }),
    ))!;
    await service.advanceTo(T0);

    expect(wecom.messages.map((m) => m.userId)).toEqual(['chenwang']);
    const card = wecom.messages[0]!.body.textcard as { title: string; description: string; url: string };
    expect(card.title).toBe('【安居】危急：张桂英 紧急呼叫（SOS）');
    expect(card.description).toContain('住址：幸福里 / 3 / 301');
    expect(card.url).toMatch(LINK);
    expect(sms.sent).toHaveLength(0);
    const [link] = await service.links.forAlert(alert.id);
    expect(link).toMatchObject({
      recipient: 'contact:ct_staff',
      channel: 'wecom',
      role: 'staff',
      name: '陈网格',
    });
    const delivered = (await service.deliveries(alert.id)).filter((d) => d.channel === 'wecom');
    expect(delivered).toMatchObject([
      {
        recipient: 'contact:ct_staff',
        address: 'chenwang',
        ok: true,
        receipt: { provider: 'wecom', status: '0' },
      },
    ]);
  });

  it('moves on to their SMS, with its own link, when WeCom does not know their user id', async () => {
    const { wecom, sms, service } = await setup({ wecomUserId: 'left-the-org' });
    const { alert } = (await service.apply(raise({ ruleId: 'event.sos', severity: 'critical' })))!;
    await service.advanceTo(T0);

    expect(wecom.messages).toHaveLength(0);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.next])).toEqual([
      ['delivery_failed', 'wecom', { recipient: 'contact:ct_staff', name: '陈网格', channel: 'sms' }],
    ]);
    expect((await service.deliveries(alert.id)).map((d) => [d.channel, d.ok])).toEqual([
      ['wecom', false],
      ['sms', true],
    ]);
    expect(trail[0]!.details.error).toBe('wecom message/send 81013: user & party & tag all invalid');
    expect(sms.sent.map((n) => n.recipient.address)).toEqual(['13800000009']);
    expect(sms.sent[0]!.link).toMatch(LINK);
  });

  it('skips WeCom for a person who chose it without a user id: it cannot reach them', async () => {
    const { wecom, sms, service } = await setup({ wecomUserId: null });
    await service.apply(raise({ severity: 'critical' }));
    await service.advanceTo(T0);
    expect(wecom.messages).toHaveLength(0);
    expect(sms.sent).toHaveLength(1);
  });
});

describe('DingTalk in escalation', () => {
  const DINGTALK = { channels: ['dingtalk', 'sms'] } as const;

  it('counts a work notification delivered once its send result names the person, and texts nobody', async () => {
    const { dingtalk, waited, sms, service } = await setup({ ...DINGTALK, dingtalkUserId: 'chenwang' });
    const { alert } = (await service.apply(raise({ ruleId: 'event.sos', severity: 'critical' })))!;
    await service.advanceTo(T0);

    expect(dingtalk.messages.map((m) => m.userId)).toEqual(['chenwang']);
    expect(dingtalk.resultReads).toBe(1);
    expect(waited).toEqual([2000]);
    expect(sms.sent).toHaveLength(0);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.receipt])).toEqual([
      [
        'delivered',
        'dingtalk',
        expect.objectContaining({ provider: 'dingtalk', status: 'unread_user_id_list' }),
      ],
    ]);
  });

  it('moves on to their SMS when the send result names their user id invalid (left the organisation)', async () => {
    const { dingtalk, sms, service } = await setup({ ...DINGTALK, dingtalkUserId: 'left-the-org' });
    const { alert } = (await service.apply(raise({ ruleId: 'event.sos', severity: 'critical' })))!;
    await service.advanceTo(T0);

    // DingTalk accepted the task: only its result says the person was not reached.
    expect(dingtalk.messages.map((m) => m.userId)).toEqual(['left-the-org']);
    expect(sms.sent.map((n) => n.recipient.address)).toEqual(['13800000009']);
    const deliveries = await service.deliveries(alert.id);
    expect(deliveries.map((d) => [d.channel, d.ok])).toEqual([
      ['dingtalk', false],
      ['sms', true],
    ]);
    expect(deliveries[0]).toMatchObject({
      address: 'left-the-org',
      error:
        'dingtalk delivery report: invalid_user_id_list (user not reached: unknown user id, or not in the organisation)',
      receipt: {
        provider: 'dingtalk',
        messageId: expect.stringMatching(/^\d+$/),
        status: 'invalid_user_id_list',
      },
    });
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.next])).toEqual([
      ['delivery_failed', 'dingtalk', { recipient: 'contact:ct_staff', name: '陈网格', channel: 'sms' }],
    ]);
  });

  it('fails over too when flow control held the message back, naming its code', async () => {
    const { dingtalk, sms, service } = await setup({ ...DINGTALK, dingtalkUserId: 'chenwang' });
    dingtalk.placeInSendResult('chenwang', 'forbidden_user_id_list', { code: '143106', count: 1 });
    const { alert } = (await service.apply(raise({ severity: 'critical' })))!;
    await service.advanceTo(T0);
    expect(sms.sent).toHaveLength(1);
    const [failed] = await service.deliveries(alert.id);
    expect(failed!.error).toBe(
      'dingtalk delivery report: forbidden_user_id_list (user not reached: held back by flow control (143106, limit 1))',
    );
  });

  it('counts it delivered, unconfirmed, when the result endpoint keeps failing: no failover on our read errors', async () => {
    const { dingtalk, waited, sms, service } = await setup({ ...DINGTALK, dingtalkUserId: 'chenwang' });
    dingtalk.fail({
      userId: 'chenwang',
      action: 'getsendresult',
      code: '-1',
      times: 100,
      message: '系统繁忙',
    });
    const { alert } = (await service.apply(raise({ severity: 'critical' })))!;
    await service.advanceTo(T0);

    // Asked every 2 s until the 10 s deadline, then left a success that says it was not confirmed.
    expect(waited).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(dingtalk.resultReads).toBe(5);
    expect(sms.sent).toHaveLength(0);
    expect(await service.deliveries(alert.id)).toMatchObject([
      {
        channel: 'dingtalk',
        ok: true,
        receipt: { status: 'unconfirmed: dingtalk getsendresult -1: 系统繁忙' },
      },
    ]);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => e.action)).toEqual(['delivered']);
  });

  it('counts it delivered, unconfirmed, when the result has not named the person by the deadline', async () => {
    const { dingtalk, sms, service } = await setup({ ...DINGTALK, dingtalkUserId: 'chenwang' });
    dingtalk.placeInSendResult('chenwang', null);
    const { alert } = (await service.apply(raise({ severity: 'critical' })))!;
    await service.advanceTo(T0);
    expect(dingtalk.resultReads).toBe(5);
    expect(sms.sent).toHaveLength(0);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, (e.details.receipt as { status: string }).status])).toEqual([
      ['delivered', 'unconfirmed'],
    ]);
  });
});
