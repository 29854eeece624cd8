// The Alibaba Cloud clients against a local server that implements Dysmsapi / Dyvmsapi's documented
// contract and checks every signature with the published algorithm.
import { afterEach, describe, expect, it } from 'vitest';
import { refusal } from './testing/refusal.ts';
import { aliyunNumber, AliyunSms, AliyunVoice } from './aliyun.ts';
import { AliyunServer } from './testing/aliyun-server.ts';

const credentials = { accessKeyId: 'LTAI5tAnjuTest', accessKeySecret: 'aliyun-secret-never-shown' };
const params = { name: '张桂英', rule: '紧急呼叫（SOS）', severity: '危急' };
const servers: AliyunServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(): Promise<AliyunServer> {
  const s = await new AliyunServer(credentials).start();
  servers.push(s);
  return s;
}

const sms = (url: string, secret = credentials.accessKeySecret) =>
  new AliyunSms({
    credentials: { ...credentials, accessKeySecret: secret },
    endpoint: url,
    signName: '安居',
    templateCode: 'SMS_460000001',
  });

describe('Alibaba Cloud SMS (SendSms)', () => {
  it('sends the template with the alert as its parameters and returns the request and biz ids', async () => {
    const s = await server();
    const receipt = await sms(s.url).send('13800000001', params, 'al_1:1.0');
    expect(s.requests).toHaveLength(1);
    const sent = s.requests[0]!.params;
    expect(sent).toMatchObject({
      Action: 'SendSms',
      Version: '2017-05-25',
      PhoneNumbers: '13800000001',
      SignName: '安居',
      TemplateCode: 'SMS_460000001',
      OutId: 'al_1:1.0',
      Format: 'JSON',
    });
    expect(JSON.parse(sent.TemplateParam!)).toEqual(params);
    expect(receipt).toMatchObject({ provider: 'aliyun', status: 'OK' });
    expect(receipt.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(receipt.messageId).toMatch(/\^0$/);
  });

  it('is refused with SignatureDoesNotMatch under a wrong secret, a final error that does not show the secret', async () => {
    const s = await server();
    const err = await refusal(sms(s.url, 'a-wrong-secret').send('13800000001', params, 'x'));
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('a-wrong-secret');
    expect(JSON.stringify(err)).not.toContain('a-wrong-secret');
    expect(s.requests).toHaveLength(0);
  });

  it('maps isv.MOBILE_NUMBER_ILLEGAL to final and isv.BUSINESS_LIMIT_CONTROL to retryable, keeping the request id', async () => {
    const s = await server();
    const bad = await refusal(sms(s.url).send('12345', params, 'x'));
    expect(bad.message).toContain('isv.MOBILE_NUMBER_ILLEGAL');
    expect(bad.retryable).toBe(false);
    expect(bad.receipt).toMatchObject({ provider: 'aliyun', status: 'isv.MOBILE_NUMBER_ILLEGAL' });
    expect(bad.receipt!.requestId).toBeTruthy();

    s.fail({
      phone: '13800000001',
      code: 'isv.BUSINESS_LIMIT_CONTROL',
      message: '触发分钟级流控Permits:1',
      times: 1,
    });
    const throttled = await refusal(sms(s.url).send('13800000001', params, 'x'));
    expect(throttled.retryable).toBe(true);
    expect(throttled.message).toContain('触发分钟级流控');
    await expect(sms(s.url).send('13800000001', params, 'x')).resolves.toMatchObject({ status: 'OK' });
  });

  it('treats an unreachable endpoint as retryable', async () => {
    const s = await server();
    const url = s.url;
    await s.close();
    const err = await refusal(sms(url).send('13800000001', params, 'x'));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^aliyun 127\.0\.0\.1:\d+: /);
  });
});

describe('Alibaba Cloud SMS delivery reports (QuerySendDetails)', () => {
  it("reads the carrier's report of the message by its BizId: delivered, or failed with the carrier's code", async () => {
    const s = await server();
    const client = sms(s.url);
    const sentAt = Date.now();
    const ok = await client.send('13800000001', params, 'x');
    await expect(client.report('13800000001', ok, sentAt)).resolves.toEqual({
      state: 'delivered',
      code: 'DELIVERED',
    });
    expect(s.requests.at(-1)!.params).toMatchObject({
      Action: 'QuerySendDetails',
      BizId: ok.messageId,
      PageSize: '10',
    });

    s.report('13800000002', { sendStatus: 2, errCode: 'MK:0001' });
    const off = await client.send('13800000002', params, 'x');
    await expect(client.report('13800000002', off, sentAt)).resolves.toEqual({
      state: 'failed',
      code: 'MK:0001',
    });

    s.report('13800000003', { sendStatus: 1, errCode: '' });
    const waiting = await client.send('13800000003', params, 'x');
    await expect(client.report('13800000003', waiting, sentAt)).resolves.toEqual({
      state: 'pending',
      code: null,
    });
  });
});

describe('Alibaba Cloud voice (SingleCallByTts)', () => {
  it('calls with the TTS template and returns the call id', async () => {
    const s = await server();
    const voice = new AliyunVoice({
      credentials,
      endpoint: s.url,
      ttsCode: 'TTS_280000001',
      calledShowNumber: '057100000000',
    });
    const receipt = await voice.send('13800000002', params, 'al_1:1.0');
    expect(s.requests[0]!.params).toMatchObject({
      Action: 'SingleCallByTts',
      CalledNumber: '13800000002',
      CalledShowNumber: '057100000000',
      TtsCode: 'TTS_280000001',
      PlayTimes: '2',
      OutId: 'al_1:1.0',
    });
    expect(JSON.parse(s.requests[0]!.params.TtsParam!)).toEqual(params);
    expect(receipt).toMatchObject({ provider: 'aliyun', status: 'OK' });
    expect(receipt.messageId).toMatch(/^116012354148\^/);
  });
});

describe('Alibaba Cloud call outcomes (QueryCallDetailByCallId)', () => {
  const voice = (url: string) => new AliyunVoice({ credentials, endpoint: url, ttsCode: 'TTS_1' });

  it('reads nothing yet while the call has no record, then answered or not by its state code', async () => {
    const s = await server();
    s.callOutcome('13800000001', { state: '200000', pendingQueries: 1 });
    s.callOutcome('13800000002', { state: '200002' });
    const heard = await voice(s.url).send('13800000001', params, 'al_1:1.0');
    const busy = await voice(s.url).send('13800000002', params, 'al_1:1.0');
    const sentAt = Date.now();

    expect(await voice(s.url).report('13800000001', heard, sentAt)).toEqual({ state: 'pending', code: null });
    expect(await voice(s.url).report('13800000001', heard, sentAt)).toEqual({
      state: 'delivered',
      code: '200000',
    });
    expect(await voice(s.url).report('13800000002', busy, sentAt)).toEqual({
      state: 'failed',
      code: '200002',
      detail: 'busy',
    });
    expect(s.requests.at(-1)!.params).toMatchObject({
      Action: 'QueryCallDetailByCallId',
      CallId: busy.messageId!,
      QueryDate: String(sentAt),
      ProdId: '11000000300006',
    });
  });

  it("rejects with the provider's error when the record cannot be read, retryable when it is the provider's trouble", async () => {
    const s = await server();
    s.fail({ phone: '13800000001', action: 'QueryCallDetailByCallId', code: 'isp.SYSTEM_ERROR', times: 1 });
    const receipt = await voice(s.url).send('13800000001', params, 'al_1:1.0');
    const err = await refusal(voice(s.url).report('13800000001', receipt, Date.now()));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('QueryCallDetailByCallId isp.SYSTEM_ERROR');
  });
});

describe('numbers', () => {
  it('sends a mainland number without +86 and others with their country code, as Alibaba Cloud takes them', () => {
    expect(aliyunNumber('+8613800000001')).toBe('13800000001');
    expect(aliyunNumber('13800000001')).toBe('13800000001');
    expect(aliyunNumber('008613800000001')).toBe('13800000001');
    expect(aliyunNumber('+85291234567')).toBe('85291234567');
  });
});
