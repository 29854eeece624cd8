// A local stand-in for Alibaba Cloud's Dysmsapi (SendSms, QuerySendDetails) and Dyvmsapi (SingleCallByTts,
// QueryCallDetailByCallId) endpoints, as their API references document them: RPC-style parameters in the query or a form body, the
// common parameters checked, the signature recomputed here from the published algorithm (written apart from
// the client's, so a mistake in one is not copied into the other), the 15-minute timestamp window and nonce
// reuse refused, and the documented answers: {"Code":"OK",RequestId,BizId|CallId} or the error codes.
import { createHmac, randomUUID } from 'node:crypto';
import { FailureScript, listenLocal, type LocalServer, type ScriptedFailure } from './http-server.ts';

export interface AliyunRequest {
  action: string;
  params: Record<string, string>;
  at: number;
  /** performance.now() on arrival, for latency measured in the same process. */
  perfAt: number;
}

/** RFC 3986 percent-encoding byte by byte, as Alibaba's signature docs spell it out. */
export function aliyunEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The published algorithm: HMAC-SHA1 keyed "secret&" over METHOD&%2F&encode(sorted encoded query). */
export function aliyunExpectedSignature(
  method: string,
  params: Record<string, string>,
  secret: string,
): string {
  const query = Object.entries(params)
    .filter(([k]) => k !== 'Signature')
    .map(([k, v]) => [aliyunEncode(k), aliyunEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const toSign = `${method}&${aliyunEncode('/')}&${aliyunEncode(query)}`;
  return createHmac('sha1', `${secret}&`).update(toSign, 'utf8').digest('base64');
}

const REQUIRED_COMMON = [
  'AccessKeyId',
  'Action',
  'Format',
  'SignatureMethod',
  'SignatureNonce',
  'SignatureVersion',
  'Timestamp',
  'Version',
  'Signature',
];

export interface AliyunServerOptions {
  accessKeyId: string;
  accessKeySecret: string;
  now?: () => number;
  /** Delay before each answer, ms (a slow provider). */
  delayMs?: number;
}

/** A carrier's report on a sent SMS, as QuerySendDetails shows it: 1 waiting, 2 failed, 3 delivered. */
export interface AliyunReport {
  sendStatus: 1 | 2 | 3;
  errCode: string;
}

/**
 * How calls to a phone end, as QueryCallDetailByCallId shows them: the call `state` code ("200000" heard
 * to the end, "200003" not answered, ...), after `pendingQueries` queries that find no record yet.
 */
export interface AliyunCallOutcome {
  state: string;
  pendingQueries?: number;
}

export class AliyunServer {
  readonly requests: AliyunRequest[] = [];
  /** Sent messages by BizId; reports default to delivered. */
  private readonly sent = new Map<
    string,
    { phone: string; outId: string; at: number; report: AliyunReport }
  >();
  private readonly reports = new Map<string, AliyunReport>();
  /** Placed calls by CallId; they end as their phone's outcome says (default: heard to the end). */
  private readonly calls = new Map<string, { phone: string; at: number; outcome: AliyunCallOutcome }>();
  private readonly callOutcomes = new Map<string, AliyunCallOutcome>();
  readonly script = new FailureScript();
  private readonly nonces = new Set<string>();
  private server: LocalServer | undefined;

  constructor(private readonly opts: AliyunServerOptions) {}

  get url(): string {
    return this.server!.url;
  }

  /** The next matching requests answer this error code instead of OK. */
  fail(failure: ScriptedFailure): void {
    this.script.add(failure);
  }

  /** What the carrier will report for messages sent to `phone` from now on. */
  report(phone: string, report: AliyunReport): void {
    this.reports.set(phone, report);
  }

  /** How calls placed to `phone` from now on end. */
  callOutcome(phone: string, outcome: AliyunCallOutcome): void {
    this.callOutcomes.set(phone, outcome);
  }

  async start(): Promise<this> {
    this.server = await listenLocal(async (req, body) => {
      if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
      const url = new URL(req.url ?? '/', 'http://localhost');
      const params = Object.fromEntries(
        req.method === 'POST' ? new URLSearchParams(body) : url.searchParams,
      ) as Record<string, string>;
      return this.answer(req.method ?? 'GET', params);
    });
    return this;
  }

  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }

  private answer(method: string, params: Record<string, string>): { status: number; json: unknown } {
    const requestId = randomUUID().toUpperCase();
    const error = (status: number, code: string, message: string) => ({
      status,
      json: { RequestId: requestId, HostId: 'dysmsapi.aliyuncs.com', Code: code, Message: message },
    });
    const missing = REQUIRED_COMMON.find((k) => !params[k]);
    if (missing) return error(400, `MissingParameter`, `${missing} is mandatory for this action.`);
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0')
      return error(400, 'InvalidParameter', 'Signature method or version is not supported.');
    if (params.AccessKeyId !== this.opts.accessKeyId)
      return error(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (params.Signature !== aliyunExpectedSignature(method, params, this.opts.accessKeySecret))
      return error(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    const ts = Date.parse(params.Timestamp!);
    const now = (this.opts.now ?? Date.now)();
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp!) || Math.abs(now - ts) > 15 * 60_000)
      return error(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
    if (this.nonces.has(params.SignatureNonce!))
      return error(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    this.nonces.add(params.SignatureNonce!);
    if (params.Version !== '2017-05-25')
      return error(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
    this.requests.push({ action: params.Action!, params, at: now, perfAt: performance.now() });

    const business = (code: string, message: string) => ({
      status: 200,
      json: { RequestId: requestId, Code: code, Message: message },
    });
    switch (params.Action) {
      case 'SendSms': {
        for (const k of ['PhoneNumbers', 'SignName', 'TemplateCode'])
          if (!params[k]) return error(400, 'MissingParameter', `${k} is mandatory for this action.`);
        if (params.TemplateParam !== undefined && !isJsonObject(params.TemplateParam))
          return business('isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
        if (!/^1\d{10}$/.test(params.PhoneNumbers!))
          return business('isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
        const scripted = this.script.take(params.PhoneNumbers!, 'SendSms');
        if (scripted) return business(scripted.code, scripted.message ?? scripted.code);
        const bizId = `${900619746936498440n + BigInt(this.sent.size)}^0`; // the documented shape
        const report = this.reports.get(params.PhoneNumbers!) ?? { sendStatus: 3, errCode: 'DELIVERED' };
        this.sent.set(bizId, { phone: params.PhoneNumbers!, outId: params.OutId ?? '', at: now, report });
        return { status: 200, json: { RequestId: requestId, Code: 'OK', Message: 'OK', BizId: bizId } };
      }
      case 'QuerySendDetails': {
        for (const k of ['PhoneNumber', 'SendDate', 'PageSize', 'CurrentPage'])
          if (!params[k]) return error(400, 'MissingParameter', `${k} is mandatory for this action.`);
        if (!/^\d{8}$/.test(params.SendDate!)) return business('isv.INVALID_PARAMETERS', 'SendDate 格式错误');
        const rows = [...this.sent.entries()].filter(
          ([bizId, m]) =>
            m.phone === params.PhoneNumber &&
            (!params.BizId || params.BizId === bizId) &&
            chinaDay(m.at) === params.SendDate,
        );
        return {
          status: 200,
          json: {
            RequestId: requestId,
            Code: 'OK',
            Message: 'OK',
            TotalCount: rows.length,
            SmsSendDetailDTOs: {
              SmsSendDetailDTO: rows.map(([, m]) => ({
                PhoneNum: m.phone,
                SendStatus: m.report.sendStatus,
                ErrCode: m.report.errCode,
                OutId: m.outId,
                TemplateCode: 'SMS_1',
                Content: '',
                SendDate: new Date(m.at).toISOString(),
                ReceiveDate: m.report.sendStatus === 3 ? new Date(m.at).toISOString() : '',
              })),
            },
          },
        };
      }
      case 'SingleCallByTts': {
        for (const k of ['CalledNumber', 'TtsCode'])
          if (!params[k]) return error(400, 'MissingParameter', `${k} is mandatory for this action.`);
        if (params.TtsParam !== undefined && !isJsonObject(params.TtsParam))
          return business('isv.INVALID_JSON_PARAM', 'JSON参数不合法');
        if (!/^1\d{10}$/.test(params.CalledNumber!))
          return business('isv.MOBILE_NUMBER_ILLEGAL', '号码格式非法');
        const scripted = this.script.take(params.CalledNumber!, 'SingleCallByTts');
        if (scripted) return business(scripted.code, scripted.message ?? scripted.code);
        const callId = `116012354148^${100675005007 + this.calls.size}`; // the documented shape
        const outcome = { ...(this.callOutcomes.get(params.CalledNumber!) ?? { state: '200000' }) };
        this.calls.set(callId, { phone: params.CalledNumber!, at: now, outcome });
        return { status: 200, json: { RequestId: requestId, Code: 'OK', Message: 'OK', CallId: callId } };
      }
      case 'QueryCallDetailByCallId': {
        // https://help.aliyun.com/zh/vms/through-the-call-id-for-call-records
        for (const k of ['CallId', 'QueryDate', 'ProdId'])
          if (!params[k]) return error(400, 'MissingParameter', `${k} is mandatory for this action.`);
        if (!/^\d{13}$/.test(params.QueryDate!))
          return error(400, 'InvalidParameter', 'QueryDate is a Unix time in milliseconds.');
        const call = this.calls.get(params.CallId!);
        const scripted = call && this.script.take(call.phone, 'QueryCallDetailByCallId');
        if (scripted) return business(scripted.code, scripted.message ?? scripted.code);
        // Only voice notification records (ProdId 11000000300006) of the day QueryDate falls on.
        const found =
          call &&
          params.ProdId === '11000000300006' &&
          chinaDay(Number(params.QueryDate)) === chinaDay(call.at);
        const pending = found && (call.outcome.pendingQueries ?? 0) > 0;
        if (pending) call.outcome.pendingQueries! -= 1;
        const ended = found && !pending;
        const answered = call?.outcome.state === '200000' || call?.outcome.state === '200001';
        const data = ended
          ? JSON.stringify({
              caller: '0571000****',
              callee: call.phone,
              state: call.outcome.state,
              stateDesc: call.outcome.state,
              duration: answered ? 20 : 0,
              startDate: answered ? new Date(call.at).toISOString() : '',
              endDate: answered ? new Date(call.at + 20_000).toISOString() : '',
              gmtCreate: new Date(call.at).toISOString(),
            })
          : '';
        return { status: 200, json: { RequestId: requestId, Code: 'OK', Message: 'OK', Data: data } };
      }
      default:
        return error(
          404,
          'InvalidAction.NotFound',
          'Specified api is not found, please check your url and method.',
        );
    }
  }
}

/** yyyyMMdd in China time, the day QuerySendDetails files a message under. */
function chinaDay(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
  } catch {
    return false;
  }
}
