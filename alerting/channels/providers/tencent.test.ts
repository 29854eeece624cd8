// The Tencent Cloud clients against a local server that implements the SMS and VMS API 3.0 contract and
// checks every TC3-HMAC-SHA256 signature with the published algorithm.
import { afterEach, describe, expect, it } from 'vitest';
import { refusal } from './testing/refusal.ts';
import { e164, TencentSms, TencentVoice } from './tencent.ts';
import { TencentServer } from './testing/tencent-server.ts';

const credentials = { secretId: 'AKIDanjuTest', secretKey: 'tencent-key-never-shown' };
const params = { name: '张桂英', rule: '疑似跌倒', severity: '报警' };
const servers: TencentServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(): Promise<TencentServer> {
  const s = await new TencentServer(credentials).start();
  servers.push(s);
  return s;
}

const sms = (url: string, secretKey = credentials.secretKey, now?: () => number) =>
  new TencentSms({
    credentials: { ...credentials, secretKey },
    endpoint: url,
    sdkAppId: '1400000001',
    signName: '安居',
    templateId: '1234567',
    ...(now ? { now } : {}),
  });

describe('Tencent Cloud SMS (SendSms 2021-01-11)', () => {
  it('sends the template with name, rule and severity as {1} {2} {3} and returns the serial number', async () => {
    const s = await server();
    const receipt = await sms(s.url).send('13800000001', params, 'al_1:1.0');
    expect(s.requests[0]).toMatchObject({
      action: 'SendSms',
      payload: {
        PhoneNumberSet: ['+8613800000001'],
        SmsSdkAppId: '1400000001',
        SignName: '安居',
        TemplateId: '1234567',
        TemplateParamSet: ['张桂英', '疑似跌倒', '报警'],
        SessionContext: 'al_1:1.0',
      },
    });
    expect(receipt).toMatchObject({ provider: 'tencent', status: 'Ok' });
    expect(receipt.messageId).toMatch(/^5000:/);
    expect(receipt.requestId).toBeTruthy();
  });

  it('adds the one-tap link as {4} where the template has it', async () => {
    const s = await server();
    await sms(s.url).send('13800000001', { ...params, link: 'Ab3_x-9Zq0Ab3_x-9Zq0Ab' }, 'al_1:1.0');
    expect(s.requests[0]!.payload.TemplateParamSet).toEqual([
      '张桂英',
      '疑似跌倒',
      '报警',
      'Ab3_x-9Zq0Ab3_x-9Zq0Ab',
    ]);
  });

  it('is refused with AuthFailure.SignatureFailure under a wrong key, final, without the key in the error', async () => {
    const s = await server();
    const err = await refusal(sms(s.url, 'wrong-key-123').send('13800000001', params, 'x'));
    expect(err.message).toContain('AuthFailure.SignatureFailure');
    expect(err.retryable).toBe(false);
    expect(JSON.stringify({ m: err.message, r: err.receipt })).not.toContain('wrong-key-123');
  });

  it('is refused with AuthFailure.SignatureExpire when the clock is off by more than five minutes', async () => {
    const s = await server();
    const err = await refusal(
      sms(s.url, credentials.secretKey, () => Date.now() - 6 * 60_000).send('13800000001', params, 'x'),
    );
    expect(err.message).toContain('AuthFailure.SignatureExpire');
  });

  it('reads the per-number code: LimitExceeded.* retryable, InvalidParameterValue.* and FailedOperation.* final', async () => {
    const s = await server();
    s.fail({ phone: '+8613800000001', code: 'LimitExceeded.PhoneNumberThirtySecondLimit', times: 1 });
    const limited = await refusal(sms(s.url).send('13800000001', params, 'x'));
    expect(limited.retryable).toBe(true);
    expect(limited.receipt).toMatchObject({ status: 'LimitExceeded.PhoneNumberThirtySecondLimit' });
    expect(limited.receipt!.messageId).toMatch(/^5000:/);

    s.fail({ phone: '+8613800000001', code: 'LimitExceeded.PhoneNumberDailyLimit', times: 1 });
    expect((await refusal(sms(s.url).send('13800000001', params, 'x'))).retryable).toBe(false);

    s.fail({ phone: '+8613800000001', code: 'FailedOperation.PhoneNumberInBlacklist', times: 1 });
    expect((await refusal(sms(s.url).send('13800000001', params, 'x'))).retryable).toBe(false);

    const wrong = await refusal(sms(s.url).send('1380000', params, 'x'));
    expect(wrong.message).toContain('InvalidParameterValue.IncorrectPhoneNumber');
    expect(wrong.retryable).toBe(false);

    s.fail({ phone: '*', code: 'InternalError.Timeout', times: 1 });
    expect((await refusal(sms(s.url).send('13800000001', params, 'x'))).retryable).toBe(true);
  });

  it('writes mainland numbers in E.164', () => {
    expect(e164('138 0000 0001')).toBe('+8613800000001');
    expect(e164('008613800000001')).toBe('+8613800000001');
    expect(e164('+85291234567')).toBe('+85291234567');
  });
});

describe('Tencent Cloud SMS delivery reports (PullSmsSendStatusByPhoneNumber)', () => {
  it('finds the report of the serial number: SUCCESS is delivered, FAIL failed with its description', async () => {
    const s = await server();
    const client = sms(s.url);
    const sentAt = Date.now();
    const ok = await client.send('13800000001', params, 'x');
    await expect(client.report('13800000001', ok, sentAt)).resolves.toEqual({
      state: 'delivered',
      code: '用户短信送达成功',
    });
    expect(s.requests.at(-1)).toMatchObject({
      action: 'PullSmsSendStatusByPhoneNumber',
      payload: { PhoneNumber: '+8613800000001', SmsSdkAppId: '1400000001', Offset: 0, Limit: 100 },
    });

    s.report('+8613800000002', { ReportStatus: 'FAIL', Description: '关机' });
    const off = await client.send('13800000002', params, 'x');
    await expect(client.report('13800000002', off, sentAt)).resolves.toEqual({
      state: 'failed',
      code: '关机',
    });
    // A serial number the provider has no report for yet is pending.
    await expect(client.report('13800000002', { ...off, messageId: '5000:other' }, sentAt)).resolves.toEqual({
      state: 'pending',
      code: null,
    });
  });
});

describe('Tencent Cloud voice (VMS SendTtsVoice)', () => {
  it('calls with the voice template and returns the call id; a refused call is final', async () => {
    const s = await server();
    const voice = new TencentVoice({
      credentials,
      endpoint: s.url,
      voiceSdkAppId: '1400000002',
      templateId: '99',
    });
    const receipt = await voice.send('13800000002', params, 'al_1:1.0');
    expect(s.requests[0]).toMatchObject({
      action: 'SendTtsVoice',
      payload: {
        CalledNumber: '+8613800000002',
        VoiceSdkAppid: '1400000002',
        TemplateId: '99',
        TemplateParamSet: ['张桂英', '疑似跌倒', '报警'],
        PlayTimes: 2,
      },
    });
    expect(receipt).toMatchObject({ provider: 'tencent', status: 'Ok' });
    expect(receipt.messageId).toMatch(/^[0-9a-f-]{36}$/);

    s.fail({ phone: '+8613800000002', code: 'FailedOperation.TemplateIncorrectOrUnapproved', times: 1 });
    const err = await refusal(voice.send('13800000002', params, 'x'));
    expect(err.retryable).toBe(false);
    expect(err.receipt?.status).toBe('FailedOperation.TemplateIncorrectOrUnapproved');
  });
});
