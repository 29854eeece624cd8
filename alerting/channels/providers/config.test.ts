// The sms and voice sections of the notifications file: what it accepts, secrets only from the
// environment, and channels that really send through the configured provider.
import { afterEach, describe, expect, it } from 'vitest';
import { notificationChannels, parseNotifications } from '../../notifications.ts';
import { raise, T0 } from '../../alerts/test-support.ts';
import type { Alert } from '../../alerts/schemas.ts';
import { openedAlert } from '../../alerts/service.ts';
import type { Notification } from '../channel.ts';
import { TencentServer } from './testing/tencent-server.ts';
import { AliyunServer } from './testing/aliyun-server.ts';
import { voiceCallbacks } from './config.ts';
import { WorkAppServer } from './testing/work-app-server.ts';
import { openAlertsDb } from '../../alerts/db.ts';
import { useTempDirs } from '../../../registry/test-dir.ts';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const tempDir = useTempDirs();

const ENV = {
  ANJU_TENCENT_SECRET_ID: 'AKIDanjuTest',
  ANJU_TENCENT_SECRET_KEY: 'tencent-key-from-env',
  ANJU_ALIYUN_ACCESS_KEY_ID: 'LTAI5tAnjuTest',
  ANJU_ALIYUN_ACCESS_KEY_SECRET: 'aliyun-secret-from-env',
};

function notification(channel: 'sms' | 'voice'): Notification {
  const signal = raise({
    ruleId: 'event.sos',
    severity: 'critical',
    evidence: {},
    deviceId: null,
    autoClear: false,
  });
  const alert: Alert = { ...openedAlert(signal, T0, 'al_1', 'cm_a'), escalationStep: 1 };
  return {
    alert,
    resident: { name: '张桂英', home: '' },
    step: 1,
    round: 0,
    at: T0,
    recipient: {
      kind: 'contact',
      id: 'ct_1',
      name: '李娜',
      channel,
      address: '13800000001',
      language: 'zh-CN',
    },
  };
}

describe('notifications file: sms and voice', () => {
  it('makes an SMS channel (Tencent) and a voice channel (Alibaba) that send with secrets from the environment', async () => {
    const tencent = await new TencentServer({
      secretId: ENV.ANJU_TENCENT_SECRET_ID,
      secretKey: ENV.ANJU_TENCENT_SECRET_KEY,
    }).start();
    const aliyun = await new AliyunServer({
      accessKeyId: ENV.ANJU_ALIYUN_ACCESS_KEY_ID,
      accessKeySecret: ENV.ANJU_ALIYUN_ACCESS_KEY_SECRET,
    }).start();
    servers.push(tencent, aliyun);
    const config = parseNotifications(
      `
      sms: { provider: tencent, endpoint: '${tencent.url}', sdkAppId: '1400000001', signName: 安居, templateId: '1234567' }
      voice: { provider: aliyun, endpoint: '${aliyun.url}', ttsCode: TTS_1, retryWithinSec: 30, answerWithinSec: 0 }
      `,
      'notifications.yaml',
    );
    expect(config.sms).toMatchObject({ provider: 'tencent', region: 'ap-guangzhou', retryWithinSec: 60 });
    // A call counts only once answered, unless the file says otherwise (as here: not waited for).
    expect(parseNotifications('voice: { provider: aliyun, ttsCode: T }', 'n.yaml').voice).toMatchObject({
      answerWithinSec: 60,
    });
    const channels = notificationChannels(config, ENV);
    expect(channels.map((c) => c.name)).toEqual(['sms', 'voice']);

    const sms = await channels[0]!.send(notification('sms'));
    expect(sms.attempts).toMatchObject([{ ok: true, receipt: { provider: 'tencent', status: 'Ok' } }]);
    expect(tencent.requests[0]!.payload.TemplateParamSet).toEqual(['张桂英', '紧急呼叫（SOS）', '危急']);
    const voice = await channels[1]!.send(notification('voice'));
    expect(voice.attempts).toMatchObject([{ ok: true, receipt: { provider: 'aliyun', status: 'OK' } }]);
    expect(aliyun.requests[0]!.params.CalledNumber).toBe('13800000001');
  });

  it('refuses to start without the secret in the environment, naming the variable', () => {
    const config = parseNotifications(
      'sms: { provider: aliyun, accessKeyId: LTAI5t, signName: 安居, templateCode: SMS_1 }',
      'notifications.yaml',
    );
    expect(() => notificationChannels(config, {})).toThrow(
      'notifications sms: set ANJU_ALIYUN_ACCESS_KEY_SECRET in the environment',
    );
  });

  it("asks for the callback token when Tencent calls are to be answered, since only Tencent's push says so", async () => {
    const db = await openAlertsDb(tempDir());
    servers.push(db);
    const voice = (extra = '') =>
      parseNotifications(
        `voice: { provider: tencent, voiceSdkAppId: '1', templateId: '2'${extra} }`,
        'n.yaml',
      ).voice;
    expect(() => voiceCallbacks(voice(), {}, db)).toThrow(
      'notifications voice (answerWithinSec): set ANJU_TENCENT_VMS_CALLBACK_TOKEN in the environment',
    );
    expect(voiceCallbacks(voice(), { ANJU_TENCENT_VMS_CALLBACK_TOKEN: 'a'.repeat(24) }, db)?.token).toBe(
      'a'.repeat(24),
    );
    expect(voiceCallbacks(voice(', answerWithinSec: 0'), {}, db)).toBeUndefined();
  });

  it('refuses a secret written into the file, and a section missing its template', () => {
    expect(() =>
      parseNotifications(
        'sms: { provider: tencent, sdkAppId: "1", signName: 安居, templateId: "2", secretKey: leaked }',
        'n.yaml',
      ),
    ).toThrow(/sms: Unrecognized key: "secretKey"/);
    expect(() => parseNotifications('voice: { provider: aliyun }', 'n.yaml')).toThrow(/voice\.ttsCode/);
    expect(() => parseNotifications('sms: { provider: twilio }', 'n.yaml')).toThrow(/sms\.provider/);
  });

  it('makes WeCom and DingTalk channels with their secrets from the environment, and refuses to start without them', async () => {
    const wecom = await new WorkAppServer({
      platform: 'wecom',
      appId: 'ww0123456789abcdef',
      secret: 'wecom-secret-from-env',
      agentId: 1000002,
      users: ['chenwang'],
    }).start();
    servers.push(wecom);
    const config = parseNotifications(
      `
      wecom: { endpoint: '${wecom.url}', corpId: ww0123456789abcdef, agentId: 1000002 }
      dingtalk: { appKey: dingabcdefghijklmn, agentId: 2345678901, retryWithinSec: 10 }
      `,
      'notifications.yaml',
    );
    expect(config.wecom).toMatchObject({ retryWithinSec: 60, timeoutMs: 5000 });
    const env = { ANJU_WECOM_CORP_SECRET: 'wecom-secret-from-env', ANJU_DINGTALK_APP_SECRET: 'd' };
    const channels = notificationChannels(config, env);
    expect(channels.map((c) => c.name)).toEqual(['wecom', 'dingtalk']);
    // DingTalk waits 10 s for its send result by default; its outbox item is claimed for that too.
    expect(config.dingtalk).toMatchObject({ confirmWithinSec: 10 });
    expect(channels[1]!.longestSendMs).toBe(10_000 + 15_000 + 10_000);
    const n = notification('sms');
    const sent = await channels[0]!.send({
      ...n,
      recipient: { ...n.recipient, channel: 'wecom', address: 'chenwang' },
    });
    expect(sent.attempts).toMatchObject([{ ok: true, receipt: { provider: 'wecom', status: '0' } }]);
    expect(wecom.messages.map((m) => m.userId)).toEqual(['chenwang']);

    expect(() => notificationChannels(config, { ANJU_WECOM_CORP_SECRET: 'x' })).toThrow(
      'notifications dingtalk: set ANJU_DINGTALK_APP_SECRET in the environment',
    );
    expect(() =>
      parseNotifications('wecom: { corpId: ww1, agentId: 1, corpSecret: leaked }', 'n.yaml'),
    ).toThrow(/wecom: Unrecognized key: "corpSecret"/);
    expect(() => parseNotifications('dingtalk: { appKey: k, agentId: -1 }', 'n.yaml')).toThrow(
      /dingtalk\.agentId/,
    );
    expect(() =>
      parseNotifications('dingtalk: { appKey: k, agentId: 1, confirmWithinSec: 600 }', 'n.yaml'),
    ).toThrow(/dingtalk\.confirmWithinSec/);
  });
});
