// What WeCom (企业微信) and DingTalk (钉钉) work notifications share: an app's access token fetched by GET
// with its secret and cached (access-token.ts), then JSON POSTs that carry it in the query and answer
// {"errcode": 0, "errmsg": "ok", ...}. A token the platform calls invalid or expired is dropped and the
// request sent once more with a new one. Secrets and tokens travel only in URLs that are never logged:
// errors name the platform, the call and its code.
import type { Notification } from '../channel.ts';
import { alertMessage, inReadingOrder } from '../message.ts';
import { AccessTokenCache, type FetchedToken } from './access-token.ts';
import { httpRetryable } from './error-codes.ts';
import { exchange } from './http.ts';
import { ProviderError, type ProviderReceipt } from './provider.ts';

/** One alert as a work notification: in the recipient's language, the one-tap link as its button. */
export interface WorkMessage {
  title: string;
  /** The message's lines, without the link: it is the button. */
  lines: string[];
  link: string | null;
  /** The button's words ("我来处理" / "I'm on it"). */
  button: string;
}

export function workMessage(n: Notification, timeZone?: string): WorkMessage {
  const [own] = inReadingOrder(alertMessage({ ...n, link: undefined }, timeZone), n.recipient.language);
  return {
    title: own!.title,
    lines: own!.lines,
    link: n.link ?? null,
    button: n.recipient.language === 'en' ? "I'm on it" : '我来处理',
  };
}

/** At most `max` bytes of UTF-8, cut on a character and marked: both platforms refuse longer fields. */
export function clip(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > max - 3) break;
    out += ch;
  }
  return `${out}…`;
}

export type Platform = 'wecom' | 'dingtalk';

export interface WorkAppOptions {
  /** The platform's API root (https://qyapi.weixin.qq.com/, https://oapi.dingtalk.com/); a local server in tests. */
  endpoint: string;
  timeoutMs?: number;
  now?: () => number;
}

export type Answer = Record<string, unknown> & { errcode?: unknown; errmsg?: unknown };

export function errcodeOf(answer: Answer | null): number | null {
  return typeof answer?.errcode === 'number' ? answer.errcode : null;
}

export abstract class WorkAppClient {
  protected readonly tokens: AccessTokenCache;
  protected readonly timeoutMs: number;
  private readonly root: string;

  constructor(
    readonly id: Platform,
    options: WorkAppOptions,
    /** Codes after which a new token is fetched and the request sent once more. */
    private readonly refreshOn: ReadonlySet<number>,
  ) {
    this.root = options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.tokens = new AccessTokenCache(() => this.fetchToken(), options.now);
  }

  protected url(path: string, query: Record<string, string>): URL {
    const url = new URL(path, this.root);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  /** GET the platform's token endpoint; rejects with the platform's code sorted by `retryable`. */
  protected async getToken(url: URL, retryable: (code: number) => boolean): Promise<FetchedToken> {
    const { status, json } = await exchange(this.id, url, { headers: {} }, this.timeoutMs);
    const answer = json as Answer | null;
    const code = errcodeOf(answer);
    if (code === 0 && typeof answer?.access_token === 'string') {
      const expires = typeof answer.expires_in === 'number' ? answer.expires_in : 7200;
      return { token: answer.access_token, expiresInSec: expires };
    }
    if (code === null)
      throw new ProviderError(`${this.id} gettoken HTTP ${status}`, httpRetryable(status), null);
    throw new ProviderError(
      `${this.id} gettoken ${code}: ${String(answer?.errmsg ?? '')}`.trim(),
      retryable(code),
      null,
    );
  }

  protected abstract fetchToken(): Promise<FetchedToken>;

  /** POSTs `body` to `path` with the token; a refused token is replaced once. Resolves with the answer. */
  protected async post(path: string, body: unknown): Promise<{ status: number; answer: Answer | null }> {
    for (let renewed = false; ; renewed = true) {
      const token = await this.tokens.get();
      const { status, json } = await exchange(
        this.id,
        this.url(path, { access_token: token }),
        { headers: { 'content-type': 'application/json;charset=utf-8' }, body: JSON.stringify(body) },
        this.timeoutMs,
      );
      const answer = json as Answer | null;
      const code = errcodeOf(answer);
      if (code !== null && this.refreshOn.has(code) && !renewed) {
        this.tokens.drop(token);
        continue;
      }
      return { status, answer };
    }
  }

  /** The receipt of an answer, and a ProviderError for anything but errcode 0. */
  protected receiptOf(
    call: string,
    status: number,
    answer: Answer | null,
    messageId: unknown,
    retryable: (code: number) => boolean,
  ): ProviderReceipt {
    const code = errcodeOf(answer);
    const receipt: ProviderReceipt = {
      provider: this.id,
      requestId: typeof answer?.request_id === 'string' ? answer.request_id : null,
      messageId: typeof messageId === 'string' || typeof messageId === 'number' ? String(messageId) : null,
      status: code === null ? `HTTP ${status}` : String(code),
    };
    if (code === 0) return receipt;
    if (code === null)
      throw new ProviderError(`${this.id} ${call} HTTP ${status}`, httpRetryable(status), receipt);
    const why = [answer?.errmsg, answer?.sub_msg].filter((s) => typeof s === 'string' && s).join(' ');
    throw new ProviderError(`${this.id} ${call} ${code}: ${why}`.trim(), retryable(code), receipt);
  }
}
