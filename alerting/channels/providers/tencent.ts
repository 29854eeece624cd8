// Tencent Cloud: SMS by SendSms (sms.tencentcloudapi.com, API 2021-01-11) and voice notification calls
// by SendTtsVoice (vms.tencentcloudapi.com, API 2020-09-02), SMS delivery reports by
// PullSmsSendStatusByPhoneNumber (2021-01-11) and call outcomes from Tencent's pushed callback
// (tencent-call-reports.ts), API 3.0 style: a JSON POST with X-TC-*
// headers, signed TC3-HMAC-SHA256 (tc3-signature.ts). A refused request answers
// {"Response":{"Error":{Code,Message},RequestId}}; SendSms also reports a Code per phone number.
import { tencentCallOutcome } from './call-outcomes.ts';
import { httpRetryable, tencentRetryable } from './error-codes.ts';
import { exchange } from './http.ts';
import {
  ProviderError,
  type DeliveryReport,
  type MessageProvider,
  type ProviderReceipt,
  type TemplateParams,
} from './provider.ts';
import { tc3Sign } from './tc3-signature.ts';
import type { TencentCallReports } from './tencent-call-reports.ts';

export interface TencentCredentials {
  secretId: string;
  secretKey: string;
}

export interface TencentOptions {
  credentials: TencentCredentials;
  /** The service's own endpoint by default; a local server in tests. */
  endpoint?: string;
  region?: string;
  timeoutMs?: number;
  now?: () => number;
}

export interface TencentSmsOptions extends TencentOptions {
  sdkAppId: string;
  signName: string;
  templateId: string;
}

export interface TencentVoiceOptions extends TencentOptions {
  voiceSdkAppId: string;
  templateId: string;
  playTimes?: number;
  /** Where the callback route keeps the calls' outcomes; without it, no outcome is ever known. */
  callReports?: TencentCallReports;
}

type Answer = Record<string, unknown> & { RequestId?: string; Error?: { Code?: string; Message?: string } };

/** Mainland numbers in E.164, as both APIs document ("+8613800000000"). */
export function e164(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '');
  if (digits.startsWith('+')) return digits;
  if (digits.startsWith('0086')) return `+${digits.slice(2)}`;
  return `+86${digits}`;
}

async function callTencent(
  opts: TencentOptions,
  service: 'sms' | 'vms',
  version: string,
  action: string,
  payload: unknown,
): Promise<{ answer: Answer; receipt: ProviderReceipt }> {
  const url = new URL(opts.endpoint ?? `https://${service}.tencentcloudapi.com/`);
  const body = JSON.stringify(payload);
  const timestamp = Math.floor((opts.now ?? Date.now)() / 1000);
  const signed = { 'content-type': 'application/json; charset=utf-8', host: url.host };
  const { authorization } = tc3Sign({
    ...opts.credentials,
    service,
    timestamp,
    method: 'POST',
    headers: signed,
    payload: body,
  });
  const { status, json } = await exchange(
    'tencent',
    url,
    {
      headers: {
        'content-type': signed['content-type'],
        authorization,
        'x-tc-action': action,
        'x-tc-timestamp': String(timestamp),
        'x-tc-version': version,
        'x-tc-region': opts.region ?? 'ap-guangzhou',
      },
      body,
    },
    opts.timeoutMs ?? 5000,
  );
  const answer = ((json as { Response?: Answer } | null)?.Response ?? {}) as Answer;
  const receipt: ProviderReceipt = {
    provider: 'tencent',
    requestId: answer.RequestId ?? null,
    messageId: null,
    status: answer.Error?.Code ?? (status === 200 ? 'Ok' : `HTTP ${status}`),
  };
  if (answer.Error?.Code) {
    const code = answer.Error.Code;
    throw new ProviderError(
      `tencent ${action} ${code}: ${answer.Error.Message ?? ''}`.trim(),
      tencentRetryable(code),
      receipt,
    );
  }
  if (status !== 200 || json === null) {
    throw new ProviderError(`tencent ${action} HTTP ${status}`, httpRetryable(status), receipt);
  }
  return { answer, receipt };
}

export class TencentSms implements MessageProvider {
  readonly id = 'tencent';

  constructor(private readonly opts: TencentSmsOptions) {}

  async send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    const { answer, receipt } = await callTencent(this.opts, 'sms', '2021-01-11', 'SendSms', {
      PhoneNumberSet: [e164(phone)],
      SmsSdkAppId: this.opts.sdkAppId,
      SignName: this.opts.signName,
      TemplateId: this.opts.templateId,
      // Tencent templates number their variables {1}, {2}, {3}: name, rule, severity.
      TemplateParamSet: templateParamSet(params),
      SessionContext: outId,
    });
    const set = answer.SendStatusSet as { SerialNo?: string; Code?: string; Message?: string }[] | undefined;
    const one = set?.[0];
    const result = { ...receipt, messageId: one?.SerialNo ?? null, status: one?.Code ?? 'missing' };
    // The request can succeed while the one number in it is refused: that refusal is the answer.
    if (one?.Code !== 'Ok') {
      const code = one?.Code ?? 'missing SendStatusSet';
      throw new ProviderError(
        `tencent SendSms ${code}: ${one?.Message ?? ''}`.trim(),
        tencentRetryable(code),
        result,
      );
    }
    return result;
  }

  /** PullSmsSendStatusByPhoneNumber: the report of this serial number, SUCCESS or FAIL, if any yet. */
  async report(phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryReport> {
    const { answer } = await callTencent(this.opts, 'sms', '2021-01-11', 'PullSmsSendStatusByPhoneNumber', {
      BeginTime: Math.floor(sentAt / 1000) - 60,
      Offset: 0,
      Limit: 100,
      PhoneNumber: e164(phone),
      SmsSdkAppId: this.opts.sdkAppId,
    });
    const set = answer.PullSmsSendStatusSet as {
      SerialNo?: string;
      ReportStatus?: string;
      Description?: string;
    }[];
    const row = set?.find((r) => r.SerialNo === receipt.messageId);
    if (row?.ReportStatus === 'SUCCESS') return { state: 'delivered', code: row.Description ?? 'SUCCESS' };
    if (row?.ReportStatus === 'FAIL') return { state: 'failed', code: row.Description ?? 'FAIL' };
    return { state: 'pending', code: null };
  }
}

export class TencentVoice implements MessageProvider {
  readonly id = 'tencent';

  constructor(private readonly opts: TencentVoiceOptions) {}

  async send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    const { answer, receipt } = await callTencent(this.opts, 'vms', '2020-09-02', 'SendTtsVoice', {
      TemplateId: this.opts.templateId,
      TemplateParamSet: templateParamSet(params),
      CalledNumber: e164(phone),
      VoiceSdkAppid: this.opts.voiceSdkAppId,
      PlayTimes: this.opts.playTimes ?? 2,
      SessionContext: outId,
    });
    const callId = (answer.SendStatus as { CallId?: string } | undefined)?.CallId ?? null;
    return { ...receipt, messageId: callId, status: 'Ok' };
  }

  /** The pushed "语音通知状态通知" of this call, if it came: result 0 answered, 1 not answered, 2 failed. */
  async report(_phone: string, receipt: ProviderReceipt): Promise<DeliveryReport> {
    const result = receipt.messageId ? await this.opts.callReports?.result(receipt.messageId) : undefined;
    return tencentCallOutcome(result);
  }
}

/** {1} name, {2} rule, {3} severity, and {4} the one-tap link where the template has it. */
function templateParamSet(params: TemplateParams): string[] {
  return [params.name, params.rule, params.severity, ...(params.link === undefined ? [] : [params.link])];
}
