// Text messages and voice notification calls through an outside provider (Alibaba Cloud or Tencent
// Cloud, providers/). Both carry the same templated message: the resident's name, the rule's Chinese
// name and the severity, filled into a template the operator had approved by the provider. A retryable
// failure (throttling, the provider's own trouble, a timeout) is tried again with growing waits until the
// retry time is spent; a final one stops at once, so escalation can move on to the next channel. Where
// the provider reports delivery (SMS), the channel can wait for the carrier's report, and a failed one
// (phone off, number gone) is a final failure too. A voice call can be made to count only once answered:
// the channel follows the call's outcome, and a call not answered in time (busy, no answer, rejected,
// off) is a final failure, which escalation fails over like a provider's refusal.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  errorText,
  type Channel,
  type DeliveryAttempt,
  type DeliveryResult,
  type Notification,
} from './channel.ts';
import { ruleNameZh } from './message.ts';
import {
  ProviderError,
  severityZh,
  type DeliveryReport,
  type MessageProvider,
  type ProviderReceipt,
  type TemplateParams,
} from './providers/provider.ts';

export interface ProviderChannelOptions {
  /** Retryable failures are tried again until this much time has passed since the first attempt. */
  retryWithinMs?: number;
  /** Wait before the second attempt; doubled for each further one, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Where the provider offers delivery reports (SMS, DingTalk's send result): wait this long for the
   * report after the provider accepted the message; a failed report fails over like a refusal, none in
   * time leaves it delivered with receipt status 'unconfirmed'. 0: do not wait.
   */
  confirmWithinMs?: number;
  /** How often to ask for the report while waiting. */
  reportEveryMs?: number;
  /**
   * Voice calls: wait this long after placing the call for someone to answer it; one not answered by then
   * is a final failure. A report that cannot be read is asked again, until the retry time is spent past
   * this wait. 0: a call the provider placed counts as delivered.
   */
  answerWithinMs?: number;
  /**
   * Where the approved template has a fourth variable for the one-tap link: 'url' fills in the whole
   * link, 'token' only its last part (for a template that holds `https://<host>/t/` itself).
   */
  linkParam?: 'url' | 'token';
  now?: () => number;
  /** Waits between attempts and reports; a test passes one that moves its clock instead. */
  sleep?: (ms: number) => Promise<unknown>;
}

export function templateParams(n: Notification, linkParam?: 'url' | 'token'): TemplateParams {
  const params: TemplateParams = {
    name: n.resident?.name ?? n.alert.residentId,
    rule: ruleNameZh(n.alert.ruleId),
    severity: severityZh(n.alert.severity),
  };
  if (linkParam) {
    // A message without a link still fills the variable: the template expects it.
    const link = n.link ?? '';
    params.link = linkParam === 'url' ? link : link.slice(link.lastIndexOf('/') + 1);
  }
  return params;
}

export class ProviderChannel<P = TemplateParams> implements Channel {
  private readonly retryWithinMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly confirmWithinMs: number;
  private readonly reportEveryMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<unknown>;
  /** Voice calls followed up: no verdict in time is a failure, not a success. */
  private readonly mustAnswer: boolean;

  constructor(
    readonly name: 'sms' | 'voice' | 'wecom' | 'dingtalk',
    private readonly provider: MessageProvider<P>,
    /** What the provider is given for a notification: template parameters, or a work app's message. */
    private readonly compose: (n: Notification) => P,
    options: ProviderChannelOptions = {},
  ) {
    this.retryWithinMs = options.retryWithinMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.mustAnswer = name === 'voice' && (options.answerWithinMs ?? 0) > 0;
    this.confirmWithinMs = (name === 'voice' ? options.answerWithinMs : options.confirmWithinMs) ?? 0;
    this.reportEveryMs = options.reportEveryMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
  }

  get longestSendMs(): number {
    // Retrying the send, then waiting for the report, then (a call) retrying an unreadable one.
    const reportRetries = this.mustAnswer ? this.retryWithinMs + this.reportEveryMs : 0;
    return this.retryWithinMs + this.maxDelayMs + this.confirmWithinMs + reportRetries;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    const message = this.compose(n);
    // The provider echoes this back in receipts (OutId, SessionContext): alert and step, no personal data.
    const outId = `${n.alert.id}:${n.step}.${n.round}`;
    const started = this.now();
    const attempts: DeliveryAttempt[] = [];
    for (let i = 0; ; i++) {
      try {
        const sentAt = this.now();
        const receipt = await this.provider.send(n.recipient.address, message, outId);
        attempts.push(await this.confirm(n.recipient.address, receipt, sentAt));
        return { attempts };
      } catch (err) {
        const known = err instanceof ProviderError;
        const retryable = known ? err.retryable : true;
        attempts.push({
          at: this.now(),
          ok: false,
          error: errorText(err),
          receipt: known ? err.receipt : null,
          retryable,
        });
        const wait = Math.min(this.baseDelayMs * 2 ** i, this.maxDelayMs);
        if (!retryable || this.now() + wait - started > this.retryWithinMs) return { attempts };
        await this.sleep(wait);
      }
    }
  }

  private async confirm(phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryAttempt> {
    const report = this.provider.report?.bind(this.provider);
    if (!report || this.confirmWithinMs <= 0) return { at: this.now(), ok: true, error: null, receipt };
    const until = sentAt + this.confirmWithinMs;
    let last: DeliveryReport | null = null;
    for (;;) {
      const left = until - this.now();
      await this.sleep(left > 0 ? Math.min(this.reportEveryMs, left) : this.reportEveryMs);
      let got: DeliveryReport | null = null;
      let unreadable: unknown = null;
      try {
        got = await report(phone, receipt, sentAt);
        last = got;
      } catch (err) {
        unreadable = err; // no verdict: asked again at the next turn
      }
      if (got?.state === 'failed') {
        const code = got.code ?? 'failed';
        const why = this.mustAnswer ? 'call not answered' : 'delivery report';
        return {
          at: this.now(),
          ok: false,
          error: `${receipt.provider} ${why}: ${code}${got.detail ? ` (${got.detail})` : ''}`,
          receipt: { ...receipt, status: code, ...(this.mustAnswer ? { answered: false } : {}) },
          retryable: false,
        };
      }
      if (got?.state === 'delivered') {
        return {
          at: this.now(),
          ok: true,
          error: null,
          receipt: {
            ...receipt,
            status: got.code ?? 'delivered',
            ...(this.mustAnswer ? { answered: true } : {}),
          },
        };
      }
      if (this.now() < until) continue;
      // A message the provider accepted stays a success without a report, and the trail says it was not
      // confirmed. Not on our failing to read the report either: that says nothing about the person, and
      // failing over would reach them again on their next channel (a call at night) for a message they
      // most likely have. A call nobody answered does not count.
      if (!this.mustAnswer) {
        const status = unreadable ? `unconfirmed: ${errorText(unreadable)}` : 'unconfirmed';
        return { at: this.now(), ok: true, error: null, receipt: { ...receipt, status } };
      }
      // A call whose record could not be read is asked about for the retry time before it counts as unanswered.
      if (unreadable && this.now() - until < this.retryWithinMs) continue;
      const seconds = Math.round(this.confirmWithinMs / 1000);
      return {
        at: this.now(),
        ok: false,
        error: unreadable
          ? `${receipt.provider} call outcome unknown after ${seconds} s: ${errorText(unreadable)}`
          : `${receipt.provider} call not answered within ${seconds} s`,
        receipt: { ...receipt, status: last?.code ?? receipt.status, answered: false },
        retryable: false,
      };
    }
  }
}

/** An SMS channel: the contact's phone gets a templated text. */
export function smsChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('sms', provider, (n) => templateParams(n, options?.linkParam), options);
}

/** A voice channel: the contact's phone rings and a text-to-speech template is read out. */
export function voiceChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('voice', provider, (n) => templateParams(n), options);
}
