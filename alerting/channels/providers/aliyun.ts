// Alibaba Cloud: SMS by Dysmsapi SendSms, its delivery reports by QuerySendDetails, voice notification
// calls by Dyvmsapi SingleCallByTts and their outcome by QueryCallDetailByCallId (all API version
// 2017-05-25), RPC style: a form POST of
// common and action parameters, signed with the AccessKey secret (aliyun-signature.ts). Success is
// {"Code":"OK", RequestId, ...}; anything else carries the error code, sorted into retryable or final
// (error-codes.ts).
import { randomUUID } from 'node:crypto';
import { aliyunCallOutcome } from './call-outcomes.ts';
import { aliyunRetryable, httpRetryable } from './error-codes.ts';
import { exchange } from './http.ts';
import { canonicalizedQuery, rpcSignature } from './aliyun-signature.ts';
import {
  ProviderError,
  type DeliveryReport,
  type MessageProvider,
  type ProviderReceipt,
  type TemplateParams,
} from './provider.ts';

export interface AliyunCredentials {
  accessKeyId: string;
  accessKeySecret: string;
}

export interface AliyunOptions {
  credentials: AliyunCredentials;
  /** https://dysmsapi.aliyuncs.com by default (dyvmsapi for calls); a local server in tests. */
  endpoint?: string;
  regionId?: string;
  timeoutMs?: number;
  now?: () => number;
}

export interface AliyunSmsOptions extends AliyunOptions {
  signName: string;
  templateCode: string;
}

export interface AliyunVoiceOptions extends AliyunOptions {
  /** The number shown to the called person (bought in the Voice Messaging Service console). */
  calledShowNumber?: string;
  ttsCode: string;
  playTimes?: number;
}

/** Alibaba's timestamp format: ISO 8601 in UTC, whole seconds. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One signed RPC call; resolves with the HTTP status and the parsed body. */
async function rpc(
  opts: AliyunOptions,
  defaultEndpoint: string,
  action: string,
  actionParams: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const params: Record<string, string> = {
    AccessKeyId: opts.credentials.accessKeyId,
    Action: action,
    Format: 'JSON',
    RegionId: opts.regionId ?? 'cn-hangzhou',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: randomUUID(),
    SignatureVersion: '1.0',
    Timestamp: timestamp((opts.now ?? Date.now)()),
    Version: '2017-05-25',
    ...actionParams,
  };
  params.Signature = rpcSignature('POST', params, opts.credentials.accessKeySecret);
  const { status, json } = await exchange(
    'aliyun',
    new URL(opts.endpoint ?? defaultEndpoint),
    {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: canonicalizedQuery(params) + `&Signature=${encodeURIComponent(params.Signature)}`,
    },
    opts.timeoutMs ?? 5000,
  );
  return { status, body: (json ?? {}) as Record<string, unknown> };
}

/** A call whose success is {"Code":"OK"}: its receipt, or a ProviderError with the code sorted. */
async function callAliyun(
  opts: AliyunOptions,
  defaultEndpoint: string,
  action: string,
  actionParams: Record<string, string>,
  idField: 'BizId' | 'CallId' | null,
): Promise<{ receipt: ProviderReceipt; body: Record<string, unknown> }> {
  const { status, body } = await rpc(opts, defaultEndpoint, action, actionParams);
  const code = typeof body.Code === 'string' ? body.Code : null;
  const id = idField ? body[idField] : undefined;
  const receipt: ProviderReceipt = {
    provider: 'aliyun',
    requestId: typeof body.RequestId === 'string' ? body.RequestId : null,
    messageId: typeof id === 'string' ? id : null,
    status: code ?? `HTTP ${status}`,
  };
  if (status === 200 && code === 'OK') return { receipt, body };
  const text = typeof body.Message === 'string' ? `: ${body.Message}` : '';
  const retryable = code ? aliyunRetryable(code) : httpRetryable(status);
  throw new ProviderError(`aliyun ${action} ${receipt.status}${text}`, retryable, receipt);
}

/**
 * Numbers as Alibaba Cloud takes them: a mainland number without its country code, any other with its
 * country code and no "+" (852...). The registry keeps E.164 (+8613800000000).
 */
export function aliyunNumber(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '');
  if (digits.startsWith('+86')) return digits.slice(3);
  if (digits.startsWith('0086')) return digits.slice(4);
  return digits.replace(/^\+/, '');
}

/** yyyyMMdd in China time: the day under which QuerySendDetails files a message. */
function sendDate(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

export class AliyunSms implements MessageProvider {
  readonly id = 'aliyun';

  constructor(private readonly opts: AliyunSmsOptions) {}

  async send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    const { receipt } = await callAliyun(
      this.opts,
      'https://dysmsapi.aliyuncs.com/',
      'SendSms',
      {
        PhoneNumbers: aliyunNumber(phone),
        SignName: this.opts.signName,
        TemplateCode: this.opts.templateCode,
        TemplateParam: JSON.stringify(params),
        OutId: outId,
      },
      'BizId',
    );
    return receipt;
  }

  /** QuerySendDetails: SendStatus 3 delivered, 2 failed (ErrCode says why), 1 still waiting. */
  async report(phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryReport> {
    const { body } = await callAliyun(
      this.opts,
      'https://dysmsapi.aliyuncs.com/',
      'QuerySendDetails',
      {
        PhoneNumber: aliyunNumber(phone),
        ...(receipt.messageId ? { BizId: receipt.messageId } : {}),
        SendDate: sendDate(sentAt),
        PageSize: '10',
        CurrentPage: '1',
      },
      null,
    );
    const rows = (
      body.SmsSendDetailDTOs as { SmsSendDetailDTO?: { SendStatus?: number; ErrCode?: string }[] }
    )?.SmsSendDetailDTO;
    const row = rows?.[0];
    if (row?.SendStatus === 3) return { state: 'delivered', code: row.ErrCode ?? 'DELIVERED' };
    if (row?.SendStatus === 2) return { state: 'failed', code: row.ErrCode ?? 'failed' };
    return { state: 'pending', code: null };
  }
}

export class AliyunVoice implements MessageProvider {
  readonly id = 'aliyun';

  constructor(private readonly opts: AliyunVoiceOptions) {}

  async send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    const { receipt } = await callAliyun(
      this.opts,
      'https://dyvmsapi.aliyuncs.com/',
      'SingleCallByTts',
      {
        ...(this.opts.calledShowNumber ? { CalledShowNumber: this.opts.calledShowNumber } : {}),
        CalledNumber: aliyunNumber(phone),
        TtsCode: this.opts.ttsCode,
        TtsParam: JSON.stringify(params),
        PlayTimes: String(this.opts.playTimes ?? 2),
        OutId: outId,
      },
      'CallId',
    );
    return receipt;
  }

  /**
   * QueryCallDetailByCallId, as "通过呼叫ID获取呼叫记录" documents it
   * (https://help.aliyun.com/zh/vms/through-the-call-id-for-call-records): CallId, QueryDate (Unix ms; the
   * records of that day), ProdId 11000000300006 for voice notifications. Data is a JSON text with the call's
   * `state` (call-outcomes.ts), `duration`, `startDate`, `endDate`; empty while there is no record yet.
   */
  async report(_phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryReport> {
    if (!receipt.messageId) return { state: 'pending', code: null };
    const { body } = await callAliyun(
      this.opts,
      'https://dyvmsapi.aliyuncs.com/',
      'QueryCallDetailByCallId',
      { CallId: receipt.messageId, QueryDate: String(sentAt), ProdId: VOICE_NOTIFICATION_PROD_ID },
      null,
    );
    return aliyunCallOutcome(callState(body.Data));
  }
}

/** Dyvmsapi's product id of voice notification calls (语音通知), for QueryCallDetailByCallId. */
const VOICE_NOTIFICATION_PROD_ID = '11000000300006';

function callState(data: unknown): string | undefined {
  if (typeof data !== 'string' || data === '') return undefined;
  try {
    const state = (JSON.parse(data) as { state?: unknown }).state;
    return typeof state === 'string' || typeof state === 'number' ? String(state) : undefined;
  } catch {
    return undefined; // not a record we can read: no verdict
  }
}
