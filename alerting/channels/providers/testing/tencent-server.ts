// A local stand-in for Tencent Cloud's SMS (SendSms, PullSmsSendStatusByPhoneNumber, 2021-01-11) and VMS
// (SendTtsVoice, 2020-09-02) endpoints, as API 3.0 documents them: a JSON POST with X-TC-Action, -Timestamp,
// -Version, -Region; the TC3-HMAC-SHA256 Authorization recomputed here from the published algorithm over the
// headers the request says it signed (written apart from the client's signer); the 5-minute window; and the
// documented answers, errors in {"Response":{"Error":{Code,Message},RequestId}} with HTTP 200, per-number
// codes in SendStatusSet. Like Tencent, it pushes each call's "语音通知状态通知" to the event callback URL,
// when one is set (https://cloud.tencent.com/document/product/1128/51534).
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FailureScript, listenLocal, type LocalServer, type ScriptedFailure } from './http-server.ts';

export interface TencentRequest {
  action: string;
  payload: Record<string, unknown>;
  at: number;
}

const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const mac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** The published TC3 algorithm, from the parts of a received request. */
export function tc3ExpectedSignature(args: {
  secretKey: string;
  service: string;
  timestamp: number;
  method: string;
  query: string;
  /** Lower-case header names, in the request's SignedHeaders order, with their values. */
  signedHeaders: [string, string][];
  payload: string;
}): string {
  const date = new Date(args.timestamp * 1000).toISOString().split('T')[0]!;
  const canonicalHeaders = args.signedHeaders.map(([k, v]) => `${k}:${v.trim().toLowerCase()}\n`).join('');
  const canonical = `${args.method}\n/\n${args.query}\n${canonicalHeaders}\n${args.signedHeaders.map(([k]) => k).join(';')}\n${hex(args.payload)}`;
  const toSign = `TC3-HMAC-SHA256\n${args.timestamp}\n${date}/${args.service}/tc3_request\n${hex(canonical)}`;
  const key = mac(mac(mac('TC3' + args.secretKey, date), args.service), 'tc3_request');
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

const ACTIONS: Record<string, { service: string; version: string }> = {
  SendSms: { service: 'sms', version: '2021-01-11' },
  SendTtsVoice: { service: 'vms', version: '2020-09-02' },
  PullSmsSendStatusByPhoneNumber: { service: 'sms', version: '2021-01-11' },
};

// Per-number outcomes of SendSms go in SendStatusSet; anything else refuses the whole request.
const PER_NUMBER =
  /^(LimitExceeded\.Phone|InvalidParameterValue\.IncorrectPhoneNumber|FailedOperation\.PhoneNumber)/;

export interface TencentServerOptions {
  secretId: string;
  secretKey: string;
  now?: () => number;
  delayMs?: number;
}

export interface TencentReport {
  ReportStatus: 'SUCCESS' | 'FAIL';
  Description: string;
}

export class TencentServer {
  readonly requests: TencentRequest[] = [];
  /** Accepted messages with what the carrier will report for them (delivered by default). */
  private readonly sent: {
    SerialNo: string;
    PhoneNumber: string;
    SessionContext: string;
    at: number;
    report: TencentReport;
  }[] = [];
  private readonly reports = new Map<string, TencentReport>();
  /** How calls to a phone end, as the status callback's `result`: "0" answered (default), "1", "2". */
  private readonly callResults = new Map<string, string>();
  private callbackUrl: string | undefined;
  private readonly pushes = new Set<Promise<void>>();
  /** What Anju answered to each pushed callback. */
  readonly callbackAnswers: { status: number; json: unknown }[] = [];
  readonly script = new FailureScript();
  private server: LocalServer | undefined;

  constructor(private readonly opts: TencentServerOptions) {}

  get url(): string {
    return this.server!.url;
  }

  fail(failure: ScriptedFailure): void {
    this.script.add(failure);
  }

  /** What the carrier will report for messages sent to `phone` (E.164) from now on. */
  report(phone: string, report: TencentReport): void {
    this.reports.set(phone, report);
  }

  /** How calls placed to `phone` (E.164) from now on end: the callback's `result`. */
  callResult(phone: string, result: '0' | '1' | '2'): void {
    this.callResults.set(phone, result);
  }

  /** The event callback URL set in the VMS console: each call's outcome is pushed there once it ends. */
  pushCallsTo(url: string): void {
    this.callbackUrl = url;
  }

  /** Resolves when every callback pushed so far has been answered. */
  async pushed(): Promise<void> {
    await Promise.all([...this.pushes]);
  }

  private pushCallEnd(callid: string, phone: string): void {
    const url = this.callbackUrl;
    if (!url) return;
    const result = this.callResults.get(phone) ?? '0';
    const t = Math.floor(Date.now() / 1000);
    const body = {
      voiceprompt_callback: {
        result,
        accept_time: result === '0' ? String(t + 10) : '0',
        call_from: '',
        callid,
        end_calltime: String(t + 30),
        fee: result === '0' ? '1' : '0',
        mobile: phone.slice(3),
        nationcode: '86',
        start_calltime: String(t),
      },
    };
    const push = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
      .then(async (res) => {
        const text = await res.text();
        this.callbackAnswers.push({ status: res.status, json: text ? (JSON.parse(text) as unknown) : null });
      })
      .catch(() => undefined)
      .finally(() => this.pushes.delete(push));
    this.pushes.add(push);
  }

  async start(): Promise<this> {
    this.server = await listenLocal(async (req, body) => {
      if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
      return { status: 200, json: { Response: this.answer(req, body) } };
    });
    return this;
  }

  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }

  private answer(req: IncomingMessage, body: string): Record<string, unknown> {
    const RequestId = randomUUID();
    const error = (Code: string, Message: string) => ({ Error: { Code, Message }, RequestId });
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const action = header('x-tc-action') ?? '';
    const spec = ACTIONS[action];
    if (!spec) return error('InvalidAction', `The action ${action} does not exist.`);
    if (header('x-tc-version') !== spec.version)
      return error('NoSuchVersion', 'The API version does not exist.');
    const auth =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d\d-\d\d)\/([a-z]+)\/tc3_request, SignedHeaders=([a-z0-9\-;]+), Signature=([0-9a-f]{64})$/.exec(
        header('authorization') ?? '',
      );
    if (!auth)
      return error('AuthFailure.InvalidAuthorization', 'Authorization in the request header is invalid.');
    const [, secretId, date, service, signedHeaders, signature] = auth;
    if (secretId !== this.opts.secretId)
      return error('AuthFailure.SecretIdNotFound', 'The SecretId is not found.');
    const timestamp = Number(header('x-tc-timestamp'));
    const now = (this.opts.now ?? Date.now)();
    if (!Number.isInteger(timestamp) || Math.abs(now / 1000 - timestamp) > 300)
      return error('AuthFailure.SignatureExpire', 'Signature expired.');
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('content-type') || service !== spec.service)
      return error('AuthFailure.InvalidAuthorization', 'Authorization in the request header is invalid.');
    if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date)
      return error('AuthFailure.SignatureFailure', 'The credential date does not match the timestamp.');
    const expected = tc3ExpectedSignature({
      secretKey: this.opts.secretKey,
      service: service!,
      timestamp,
      method: req.method ?? 'POST',
      query: '',
      signedHeaders: names.map((n) => [n, header(n) ?? '']),
      payload: body,
    });
    if (expected !== signature)
      return error('AuthFailure.SignatureFailure', 'The provided credentials could not be validated.');
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return error('InvalidParameter', 'The request body is not JSON.');
    }
    this.requests.push({ action, payload, at: now });
    if (action === 'SendSms') return this.sendSms(payload, RequestId, error, now);
    if (action === 'SendTtsVoice') return this.sendTtsVoice(payload, RequestId, error);
    return this.pullStatus(payload, RequestId, error);
  }

  private pullStatus(
    p: Record<string, unknown>,
    RequestId: string,
    error: (code: string, message: string) => Record<string, unknown>,
  ): Record<string, unknown> {
    const { BeginTime, EndTime, Offset, Limit, PhoneNumber, SmsSdkAppId } = p;
    if (typeof BeginTime !== 'number' || typeof Offset !== 'number' || typeof Limit !== 'number')
      return error('MissingParameter', 'BeginTime, Offset and Limit are required.');
    if (typeof PhoneNumber !== 'string' || typeof SmsSdkAppId !== 'string')
      return error('MissingParameter', 'PhoneNumber and SmsSdkAppId are required.');
    if (Limit > 100) return error('InvalidParameterValue', 'Limit must not be over 100.');
    const end = typeof EndTime === 'number' ? EndTime : Infinity;
    const rows = this.sent
      .filter((m) => m.PhoneNumber === PhoneNumber && m.at / 1000 >= BeginTime && m.at / 1000 <= end)
      .slice(Offset, Offset + Limit);
    return {
      PullSmsSendStatusSet: rows.map((m) => ({
        UserReceiveTime: Math.floor(m.at / 1000),
        CountryCode: '86',
        SubscriberNumber: m.PhoneNumber.slice(3),
        PhoneNumber: m.PhoneNumber,
        SerialNo: m.SerialNo,
        ReportStatus: m.report.ReportStatus,
        Description: m.report.Description,
        SessionContext: m.SessionContext,
      })),
      RequestId,
    };
  }

  private sendSms(
    p: Record<string, unknown>,
    RequestId: string,
    error: (code: string, message: string) => Record<string, unknown>,
    now: number,
  ): Record<string, unknown> {
    const phones = p.PhoneNumberSet;
    if (
      !Array.isArray(phones) ||
      phones.length === 0 ||
      typeof p.SmsSdkAppId !== 'string' ||
      typeof p.TemplateId !== 'string'
    )
      return error('MissingParameter', 'PhoneNumberSet, SmsSdkAppId and TemplateId are required.');
    if (
      p.TemplateParamSet !== undefined &&
      !(Array.isArray(p.TemplateParamSet) && p.TemplateParamSet.every((x) => typeof x === 'string'))
    )
      return error('InvalidParameterValue.TemplateParameterFormatError', 'TemplateParamSet must be strings.');
    const whole = this.script.take('*', 'SendSms');
    if (whole && !PER_NUMBER.test(whole.code)) return error(whole.code, whole.message ?? whole.code);
    const SendStatusSet = (phones as string[]).map((PhoneNumber) => {
      const scripted = whole ?? this.script.take(PhoneNumber, 'SendSms');
      const code = !/^\+861\d{10}$/.test(PhoneNumber)
        ? 'InvalidParameterValue.IncorrectPhoneNumber'
        : (scripted?.code ?? 'Ok');
      const SerialNo = `5000:${randomUUID()}`;
      if (code === 'Ok') {
        const report = this.reports.get(PhoneNumber) ?? {
          ReportStatus: 'SUCCESS',
          Description: '用户短信送达成功',
        };
        this.sent.push({
          SerialNo,
          PhoneNumber,
          SessionContext: String(p.SessionContext ?? ''),
          at: now,
          report,
        });
      }
      return {
        SerialNo,
        PhoneNumber,
        Fee: code === 'Ok' ? 1 : 0,
        SessionContext: p.SessionContext ?? '',
        Code: code,
        Message: code === 'Ok' ? 'send success' : (scripted?.message ?? code),
        IsoCode: 'CN',
      };
    });
    return { SendStatusSet, RequestId };
  }

  private sendTtsVoice(
    p: Record<string, unknown>,
    RequestId: string,
    error: (code: string, message: string) => Record<string, unknown>,
  ): Record<string, unknown> {
    if (
      typeof p.TemplateId !== 'string' ||
      typeof p.CalledNumber !== 'string' ||
      typeof p.VoiceSdkAppid !== 'string'
    )
      return error('MissingParameter', 'TemplateId, CalledNumber and VoiceSdkAppid are required.');
    if (!/^\+861\d{10}$/.test(p.CalledNumber))
      return error('InvalidParameterValue.IncorrectPhoneNumber', 'Wrong number.');
    const scripted = this.script.take(p.CalledNumber, 'SendTtsVoice');
    if (scripted) return error(scripted.code, scripted.message ?? scripted.code);
    const CallId = randomUUID();
    setImmediate(() => this.pushCallEnd(CallId, p.CalledNumber as string)); // after the answer, as the call ends
    return { SendStatus: { CallId, SessionContext: p.SessionContext ?? '' }, RequestId };
  }
}
