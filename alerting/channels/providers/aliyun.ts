// Alibaba Cloud: SMS by Dysmsapi SendSms and voice notification calls by Dyvmsapi SingleCallByTts
// (both API version 2017-05-25), RPC style: a form POST of common and action parameters, signed with
// the AccessKey secret (aliyun-signature.ts). Success is {"Code":"OK", RequestId, BizId | CallId};
// anything else carries the error code, mapped to retryable or final (error-codes.ts).
import { randomUUID } from 'node:crypto';
import { aliyunRetryable, httpRetryable } from './error-codes.ts';
import { exchange } from './http.ts';
import { canonicalizedQuery, rpcSignature } from './aliyun-signature.ts';
import {
  ProviderError,
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

async function callAliyun(
  opts: AliyunOptions,
  defaultEndpoint: string,
  action: string,
  actionParams: Record<string, string>,
  idField: 'BizId' | 'CallId',
): Promise<ProviderReceipt> {
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
  const body = (json ?? {}) as Record<string, unknown>;
  const code = typeof body.Code === 'string' ? body.Code : null;
  const receipt: ProviderReceipt = {
    provider: 'aliyun',
    requestId: typeof body.RequestId === 'string' ? body.RequestId : null,
    messageId: typeof body[idField] === 'string' ? body[idField] : null,
    status: code ?? `HTTP ${status}`,
  };
  if (status === 200 && code === 'OK') return receipt;
  const text = typeof body.Message === 'string' ? `: ${body.Message}` : '';
  const retryable = code ? aliyunRetryable(code) : httpRetryable(status);
  throw new ProviderError(`aliyun ${action} ${receipt.status}${text}`, retryable, receipt);
}

export class AliyunSms implements MessageProvider {
  readonly id = 'aliyun';

  constructor(private readonly opts: AliyunSmsOptions) {}

  send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    return callAliyun(
      this.opts,
      'https://dysmsapi.aliyuncs.com/',
      'SendSms',
      {
        PhoneNumbers: phone,
        SignName: this.opts.signName,
        TemplateCode: this.opts.templateCode,
        TemplateParam: JSON.stringify(params),
        OutId: outId,
      },
      'BizId',
    );
  }
}

export class AliyunVoice implements MessageProvider {
  readonly id = 'aliyun';

  constructor(private readonly opts: AliyunVoiceOptions) {}

  send(phone: string, params: TemplateParams, outId: string): Promise<ProviderReceipt> {
    return callAliyun(
      this.opts,
      'https://dyvmsapi.aliyuncs.com/',
      'SingleCallByTts',
      {
        ...(this.opts.calledShowNumber ? { CalledShowNumber: this.opts.calledShowNumber } : {}),
        CalledNumber: phone,
        TtsCode: this.opts.ttsCode,
        TtsParam: JSON.stringify(params),
        PlayTimes: String(this.opts.playTimes ?? 2),
        OutId: outId,
      },
      'CallId',
    );
  }
}
