// SMS and voice channels inside escalation, against a local Alibaba Cloud stand-in: what a family member
// receives, what the alert's deliveries and trail keep, retries within the retry time, and failover to
// the person's next channel and then the next person.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Contact } from '../../registry/index.ts';
import { useTempDirs } from '../../registry/test-dir.ts';
import { parseEscalationPolicies } from '../alerts/policy.ts';
import { AlertService } from '../alerts/service.ts';
import { raise, residentDirectory, settableClock, T0, testContact } from '../alerts/test-support.ts';
import { AliyunSms, AliyunVoice } from './providers/aliyun.ts';
import { AliyunServer } from './providers/testing/aliyun-server.ts';
import { smsChannel, voiceChannel, type ProviderChannelOptions } from './sms.ts';

const tempDir = useTempDirs();
const credentials = { accessKeyId: 'LTAI5tAnjuTest', accessKeySecret: 'aliyun-secret-never-shown' };
const servers: AliyunServer[] = [];
const services: AlertService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const s of servers.splice(0)) await s.close();
});

const DAUGHTER = testContact({
  id: 'ct_daughter',
  name: '李娜',
  channels: ['app', 'sms', 'phone'],
  phone: '13800000001',
});
const SON = testContact({
  id: 'ct_son',
  name: '李强',
  escalationOrder: 2,
  channels: ['sms'],
  phone: '13800000002',
});

async function setup(
  options: {
    contacts?: Contact[];
    channel?: ProviderChannelOptions;
    delayMs?: number;
    failover?: boolean;
    /** The voice channel's own options, over the shared ones. */
    voice?: ProviderChannelOptions;
  } = {},
) {
  const server = await new AliyunServer({
    ...credentials,
    ...(options.delayMs ? { delayMs: options.delayMs } : {}),
  }).start();
  servers.push(server);
  const channelOptions = { retryWithinMs: 5000, baseDelayMs: 20, ...options.channel };
  const service = await AlertService.open({
    dataDir: tempDir(),
    clock: settableClock(),
    directory: residentDirectory(options.contacts ?? [DAUGHTER, SON]),
    // The family step tells the first family member; failover reaches further when that fails.
    policies: parseEscalationPolicies(
      `default: { steps: [{ afterMin: 0, notify: [family], maxContactOrder: 1 }], renotifyEveryMin: null, failover: ${options.failover ?? true} }`,
    ),
    channels: [
      smsChannel(
        new AliyunSms({ credentials, endpoint: server.url, signName: '安居', templateCode: 'SMS_1' }),
        channelOptions,
      ),
      voiceChannel(new AliyunVoice({ credentials, endpoint: server.url, ttsCode: 'TTS_1' }), {
        ...channelOptions,
        ...options.voice,
      }),
    ],
  });
  services.push(service);
  return { server, service };
}

/** A channel clock that a wait moves on at once: a minute's wait for an answer takes no time. */
function fastClock(): Pick<ProviderChannelOptions, 'now' | 'sleep'> {
  let t = Date.now();
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** "action phone" of every request the provider accepted, in order. */
const calls = (server: AliyunServer) =>
  server.requests.map((r) => `${r.action} ${r.params.PhoneNumbers ?? r.params.CalledNumber}`);

describe('SMS and voice channels in escalation', () => {
  it("texts the family member's first channel with the alert as template parameters, keeping the provider's ids", async () => {
    const { server, service } = await setup();
    const { alert } = (await service.apply(
      raise({ ruleId: 'event.sos', severity: 'critical', summary: 'SOS pressed' }),
    ))!;
    await service.advanceTo(T0);

    expect(calls(server)).toEqual(['SendSms 13800000001']); // not the call: SMS is her first choice
    expect(JSON.parse(server.requests[0]!.params.TemplateParam!)).toEqual({
      name: '张桂英',
      rule: '紧急呼叫（SOS）',
      severity: '危急',
    });
    expect(server.requests[0]!.params.OutId).toBe(`${alert.id}:0.0`);
    const sms = (await service.deliveries(alert.id)).filter((d) => d.channel === 'sms');
    expect(sms).toMatchObject([
      { recipient: 'contact:ct_daughter', ok: true, receipt: { provider: 'aliyun', status: 'OK' } },
    ]);
    expect(sms[0]!.receipt!.requestId).toBeTruthy();
    expect(sms[0]!.receipt!.messageId).toBeTruthy();
    const delivered = (await service.history(alert.id)).find((e) => e.action === 'delivered');
    expect(delivered?.details).toMatchObject({ name: '李娜', channel: 'sms', receipt: sms[0]!.receipt! });
    // Her family page is told alongside (no socket channel here, so that delivery failed), and no one else.
    expect((await service.deliveries(alert.id)).map((d) => d.channel).sort()).toEqual(['sms', 'socketio']);
  });

  it('retries a throttled text within the retry time and records every attempt', async () => {
    const { server, service } = await setup();
    server.fail({ phone: '13800000001', code: 'isv.BUSINESS_LIMIT_CONTROL', times: 2 });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);
    const sms = (await service.deliveries(alert.id)).filter((d) => d.channel === 'sms');
    expect(sms.map((d) => [d.attempt, d.ok, d.receipt?.status])).toEqual([
      [1, false, 'isv.BUSINESS_LIMIT_CONTROL'],
      [2, false, 'isv.BUSINESS_LIMIT_CONTROL'],
      [3, true, 'OK'],
    ]);
    expect(calls(server)).toEqual(Array(3).fill('SendSms 13800000001')); // and no call: the text got through
  });

  it('moves on to her voice call once retrying has used up the retry time', async () => {
    const { server, service } = await setup({ channel: { retryWithinMs: 300, baseDelayMs: 50 } });
    server.fail({ phone: '13800000001', action: 'SendSms', code: 'Throttling.User', times: 100 });
    const { alert } = (await service.apply(raise()))!;
    const started = performance.now();
    await service.advanceTo(T0);
    const elapsed = performance.now() - started;

    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.next])).toEqual([
      ['delivery_failed', 'sms', { recipient: 'contact:ct_daughter', name: '李娜', channel: 'voice' }],
      ['delivered', 'voice', undefined],
    ]);
    expect((await service.deliveries(alert.id)).filter((d) => d.channel === 'sms').length).toBeGreaterThan(1);
    expect(elapsed).toBeLessThan(300 + 1000); // the retry time, plus the call itself
  });

  it('fails over at once on a final error: wrong number, then her call, then the next family member', async () => {
    const { server, service } = await setup();
    server.fail({ phone: '13800000001', code: 'isv.MOBILE_NUMBER_ILLEGAL', times: 2 }); // SMS and call
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(
      (await service.deliveries(alert.id))
        .filter((d) => d.channel !== 'socketio')
        .map((d) => [d.recipient, d.channel, d.ok, d.attempt]),
    ).toEqual([
      ['contact:ct_daughter', 'sms', false, 1],
      ['contact:ct_daughter', 'voice', false, 1],
      ['contact:ct_son', 'sms', true, 1],
    ]);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(
      trail.map((e) => [
        e.action,
        e.details.name,
        e.details.channel,
        (e.details.next as { name?: string } | null)?.name,
      ]),
    ).toEqual([
      ['delivery_failed', '李娜', 'sms', '李娜'],
      ['delivery_failed', '李娜', 'voice', '李强'],
      ['delivered', '李强', 'sms', undefined],
    ]);
    expect(trail[0]!.details.error).toContain('isv.MOBILE_NUMBER_ILLEGAL');
  });

  it('records that nobody is left when every channel of every family member failed', async () => {
    const { server, service } = await setup();
    server.fail({ phone: '*', code: 'isv.AMOUNT_NOT_ENOUGH', times: 10 });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);
    const failed = (await service.history(alert.id)).filter((e) => e.action === 'delivery_failed');
    expect(failed.map((e) => e.details.next === null)).toEqual([false, false, true]);
  });

  it("waits for the carrier's report when asked to, and calls when the text was not delivered", async () => {
    const { server, service } = await setup({ channel: { confirmWithinMs: 2000, reportEveryMs: 20 } });
    server.report('13800000001', { sendStatus: 2, errCode: 'MK:0001' }); // her phone is off
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);
    expect(calls(server)).toEqual([
      'SendSms 13800000001',
      'QuerySendDetails undefined',
      'SingleCallByTts 13800000001',
    ]);
    const sms = (await service.deliveries(alert.id)).find((d) => d.channel === 'sms')!;
    expect(sms).toMatchObject({
      ok: false,
      error: 'aliyun delivery report: MK:0001',
      receipt: { status: 'MK:0001' },
    });
    const failed = (await service.history(alert.id)).find((e) => e.action === 'delivery_failed')!;
    expect(failed.details.next).toMatchObject({ channel: 'voice' });
  });

  it('with failover off, texts and calls at once and moves on to nobody', async () => {
    const { server, service } = await setup({ failover: false });
    server.fail({ phone: '13800000001', code: 'isv.MOBILE_NUMBER_ILLEGAL', times: 2 });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);
    expect(calls(server).sort()).toEqual(['SendSms 13800000001', 'SingleCallByTts 13800000001']);
    const failed = (await service.history(alert.id)).filter((e) => e.action === 'delivery_failed');
    expect(failed.map((e) => e.details.next)).toEqual([null, null]);
  });

  it('stops failing over once someone has taken the alert on', async () => {
    const { server, service } = await setup({ delayMs: 1000 });
    server.fail({ phone: '13800000001', code: 'isv.MOBILE_NUMBER_ILLEGAL', times: 1 });
    const { alert } = (await service.apply(raise()))!;
    const escalating = service.advanceTo(T0);
    // Decided (the SMS is being sent, held 1 s by the provider), not yet answered.
    await vi.waitFor(async () =>
      expect((await service.history(alert.id)).map((e) => e.action)).toContain('escalated'),
    );
    await service.acknowledge(alert.id, 'us_staff'); // while the SMS request is on its way
    await escalating;
    expect(calls(server)).toEqual(['SendSms 13800000001']); // no call after it
    const failed = (await service.history(alert.id)).filter(
      (e) => e.action === 'delivery_failed' && e.details.channel === 'sms',
    );
    expect(failed.map((e) => e.details.next)).toEqual([null]);
  });
});

describe('voice calls followed until answered', () => {
  // She asked to be called first, then texted; her brother only takes texts.
  const MOTHER_FIRST = { ...DAUGHTER, channels: ['phone', 'sms'] } satisfies Contact;
  const answerIn = (ms: number) => ({ answerWithinMs: ms, reportEveryMs: 5000, ...fastClock() });
  const voiceFirst = (voice: ProviderChannelOptions) => setup({ contacts: [MOTHER_FIRST, SON], voice });
  const queries = (server: AliyunServer) =>
    server.requests.filter((r) => r.action === 'QueryCallDetailByCallId');

  it('counts an answered call as delivered, records it as answered and tells no one else', async () => {
    const { server, service } = await voiceFirst(answerIn(60_000));
    server.callOutcome('13800000001', { state: '200000', pendingQueries: 2 }); // rings, then heard
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(calls(server).filter((c) => !c.startsWith('Query'))).toEqual(['SingleCallByTts 13800000001']);
    // Asked every 5 s by the call's id, as a voice notification (ProdId) of the day it was placed.
    expect(queries(server).map((q) => [q.params.ProdId, q.params.CallId])).toEqual(
      Array(3).fill(['11000000300006', expect.stringMatching(/^116012354148\^\d+$/)]),
    );
    const voice = (await service.deliveries(alert.id)).filter((d) => d.channel === 'voice');
    expect(voice).toMatchObject([{ ok: true, attempt: 1, receipt: { status: '200000', answered: true } }]);
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.receipt])).toEqual([
      ['delivered', 'voice', voice[0]!.receipt],
    ]);
  });

  it("moves on to her text when she does not pick up, and the trail keeps the provider's code", async () => {
    const { server, service } = await voiceFirst(answerIn(60_000));
    server.callOutcome('13800000001', { state: '200003', pendingQueries: 1 }); // rang out
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(calls(server).filter((c) => !c.startsWith('Query'))).toEqual([
      'SingleCallByTts 13800000001',
      'SendSms 13800000001',
    ]);
    const voice = (await service.deliveries(alert.id)).find((d) => d.channel === 'voice')!;
    expect(voice).toMatchObject({
      ok: false,
      error: 'aliyun call not answered: 200003 (rang, not answered)',
      receipt: { status: '200003', answered: false },
    });
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.channel, e.details.next])).toEqual([
      ['delivery_failed', 'voice', { recipient: 'contact:ct_daughter', name: '李娜', channel: 'sms' }],
      ['delivered', 'sms', undefined],
    ]);
    expect(trail[0]!.details).toMatchObject({
      error: 'aliyun call not answered: 200003 (rang, not answered)',
      receipt: { status: '200003', answered: false },
    });
  });

  it('fails over when the call has no answer within the configured time, and then reaches her brother', async () => {
    const { server, service } = await voiceFirst(answerIn(60_000));
    server.callOutcome('13800000001', { state: '200000', pendingQueries: 1000 }); // still no record
    server.fail({ phone: '13800000001', action: 'SendSms', code: 'isv.MOBILE_NUMBER_ILLEGAL', times: 1 });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(queries(server)).toHaveLength(12); // every 5 s for a minute
    const trail = (await service.history(alert.id)).filter((e) => e.action.startsWith('deliver'));
    expect(trail.map((e) => [e.action, e.details.name, e.details.channel, e.details.error])).toEqual([
      ['delivery_failed', '李娜', 'voice', 'aliyun call not answered within 60 s'],
      ['delivery_failed', '李娜', 'sms', expect.stringContaining('isv.MOBILE_NUMBER_ILLEGAL')],
      ['delivered', '李强', 'sms', undefined],
    ]);
  });

  it('asks again when the call record cannot be read, and still counts the answer', async () => {
    const { server, service } = await voiceFirst(answerIn(60_000));
    server.fail({
      phone: '13800000001',
      action: 'QueryCallDetailByCallId',
      code: 'isp.SYSTEM_ERROR',
      times: 2,
    });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(queries(server)).toHaveLength(3);
    expect((await service.deliveries(alert.id)).filter((d) => d.channel !== 'socketio')).toMatchObject([
      { channel: 'voice', ok: true, receipt: { status: '200000', answered: true } },
    ]);
  });

  it('keeps asking for the retry time past the wait when the record stays unreadable, then fails over', async () => {
    const { server, service } = await voiceFirst({ ...answerIn(10_000), retryWithinMs: 5000 });
    server.fail({
      phone: '13800000001',
      action: 'QueryCallDetailByCallId',
      code: 'isp.SYSTEM_ERROR',
      times: 100,
    });
    const { alert } = (await service.apply(raise()))!;
    await service.advanceTo(T0);

    expect(queries(server)).toHaveLength(3); // at 5 s and 10 s, within the wait; at 15 s, the retry time spent
    const failed = (await service.history(alert.id)).find((e) => e.action === 'delivery_failed')!;
    expect(failed.details).toMatchObject({
      channel: 'voice',
      error: expect.stringMatching(/^aliyun call outcome unknown after 10 s: .*isp\.SYSTEM_ERROR/),
      next: { channel: 'sms' },
    });
  });
});
