// Webhooks: a JSON POST per notification, signed so the receiver can tell it came from Anju, retried
// with exponential backoff while the receiver is down or slow. DingTalk and WeCom group robots are
// formats of the same channel: a community's grid workers often live in one of those groups.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  errorText,
  type Channel,
  type DeliveryAttempt,
  type DeliveryResult,
  type Notification,
} from './channel.ts';
import { alertMessage, inReadingOrder } from './message.ts';

export const SIGNATURE_HEADER = 'x-anju-signature';
export const TIMESTAMP_HEADER = 'x-anju-timestamp';

export const WebhookEndpoint = z.strictObject({
  /** Named by escalation policy steps (`webhooks: [id]`). */
  id: z.string().min(1),
  url: z.url({ protocol: /^https?$/ }),
  /** Key of the X-Anju-Signature HMAC; each endpoint has its own. */
  secret: z.string().min(16, 'use a secret of at least 16 characters'),
  /** json: Anju's own payload; dingtalk / wecom: the robot's markdown message. */
  format: z.enum(['json', 'dingtalk', 'wecom']).default('json'),
  /** DingTalk robots with "加签" security: the robot's SEC... secret, added as timestamp and sign. */
  dingtalkSecret: z.string().min(1).optional(),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;
export type WebhookEndpointInput = z.input<typeof WebhookEndpoint>;

export interface WebhookOptions {
  endpoints: readonly WebhookEndpointInput[];
  /** Attempts per notification, the first included. */
  maxAttempts?: number;
  /** Wait before the second attempt; doubled for each further one, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** An attempt with no complete answer by then is a failure (and retried). */
  timeoutMs?: number;
  /** Time zone for times in robot messages. */
  timeZone?: string;
  now?: () => number;
}

/** `sha256=<hex HMAC-SHA256 of the body>`, the X-Anju-Signature value. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: whether `signature` is the X-Anju-Signature of `body` under `secret` (constant time). */
export function verifySignature(secret: string, body: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** DingTalk's signed robot URL: timestamp and base64 HMAC-SHA256 of "timestamp\nsecret". */
export function dingtalkSignedUrl(url: string, secret: string, timestamp: number): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestamp));
  signed.searchParams.set('sign', sign);
  return signed.toString();
}

export function webhookBody(
  endpoint: WebhookEndpoint,
  n: Notification,
  sentAt: number,
  timeZone: string,
): unknown {
  if (endpoint.format === 'json') {
    return {
      type: 'alert.notify',
      sentAt,
      step: n.step,
      round: n.round,
      alert: n.alert,
      resident: n.resident,
      ...(n.link ? { link: n.link } : {}),
    };
  }
  const [first, second] = inReadingOrder(alertMessage(n, timeZone), n.recipient.language);
  const markdown = [first!, second!].map(
    (m) => `### ${m.title}\n\n${m.lines.map((l) => `- ${l}`).join('\n')}`,
  );
  const text = markdown.join('\n\n---\n\n');
  return endpoint.format === 'dingtalk'
    ? { msgtype: 'markdown', markdown: { title: first!.title, text } }
    : { msgtype: 'markdown', markdown: { content: text } };
}

// A robot answers HTTP 200 with a non-zero errcode when it refuses a message.
function robotError(endpoint: WebhookEndpoint, text: string): string | null {
  if (endpoint.format === 'json') return null;
  try {
    const reply = JSON.parse(text) as { errcode?: unknown; errmsg?: unknown };
    if (reply.errcode === undefined || reply.errcode === 0) return null;
    return `robot refused the message: errcode ${String(reply.errcode)} ${String(reply.errmsg ?? '')}`.trim();
  } catch {
    return null;
  }
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  private readonly endpoints = new Map<string, WebhookEndpoint>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly timeZone: string;
  private readonly now: () => number;

  constructor(options: WebhookOptions) {
    for (const input of options.endpoints) {
      const endpoint = WebhookEndpoint.parse(input);
      this.endpoints.set(endpoint.id, endpoint);
    }
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.timeZone = options.timeZone ?? 'Asia/Shanghai';
    this.now = options.now ?? Date.now;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    const endpoint = this.endpoints.get(n.recipient.address);
    if (!endpoint) {
      return {
        attempts: [{ at: this.now(), ok: false, error: `no webhook "${n.recipient.address}" is configured` }],
      };
    }
    const attempts: DeliveryAttempt[] = [];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(Math.min(this.baseDelayMs * 2 ** (attempt - 2), this.maxDelayMs));
      const { error, retry } = await this.post(endpoint, n);
      attempts.push({ at: this.now(), ok: error === null, error });
      if (error === null || !retry) break;
    }
    return { attempts };
  }

  private async post(
    endpoint: WebhookEndpoint,
    n: Notification,
  ): Promise<{ error: string | null; retry: boolean }> {
    const sentAt = this.now();
    const body = JSON.stringify(webhookBody(endpoint, n, sentAt, this.timeZone));
    const url =
      endpoint.format === 'dingtalk' && endpoint.dingtalkSecret
        ? dingtalkSignedUrl(endpoint.url, endpoint.dingtalkSecret, sentAt)
        : endpoint.url;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          [SIGNATURE_HEADER]: signBody(endpoint.secret, body),
          [TIMESTAMP_HEADER]: String(sentAt),
          'x-anju-alert-id': n.alert.id,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text(); // within the timeout: a receiver that stalls mid-answer fails too
      if (!response.ok) return { error: `HTTP ${response.status}`, retry: retryable(response.status) };
      const refused = robotError(endpoint, text);
      return { error: refused, retry: false };
    } catch (err) {
      const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
      return { error: timedOut ? `no answer within ${this.timeoutMs} ms` : errorText(err), retry: true };
    }
  }
}
