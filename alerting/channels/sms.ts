// Text messages and voice notification calls through an outside provider (Alibaba Cloud or Tencent
// Cloud, providers/). Both carry the same templated message: the resident's name, the rule's Chinese
// name and the severity, filled into a template the operator had approved by the provider. A retryable
// failure (throttling, the provider's own trouble, a timeout) is tried again with growing waits until the
// retry time is spent; a final one stops at once, so escalation can move on to the next channel. Where
// the provider reports delivery (SMS), the channel can wait for the carrier's report, and a failed one
// (phone off, number gone) is a final failure too.
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
   * Where the provider offers delivery reports (SMS): wait this long for the carrier's report after the
   * provider accepted the message; a failed report fails over like a refusal. 0: do not wait.
   */
  confirmWithinMs?: number;
  /** How often to ask for the report while waiting. */
  reportEveryMs?: number;
  /**
   * Where the approved template has a fourth variable for the one-tap link: 'url' fills in the whole
   * link, 'token' only its last part (for a template that holds `https://<host>/t/` itself).
   */
  linkParam?: 'url' | 'token';
  now?: () => number;
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

export class ProviderChannel implements Channel {
  private readonly retryWithinMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly confirmWithinMs: number;
  private readonly reportEveryMs: number;
  private readonly now: () => number;
  private readonly linkParam: 'url' | 'token' | undefined;

  constructor(
    readonly name: 'sms' | 'voice',
    private readonly provider: MessageProvider,
    options: ProviderChannelOptions = {},
  ) {
    this.retryWithinMs = options.retryWithinMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.confirmWithinMs = options.confirmWithinMs ?? 0;
    this.reportEveryMs = options.reportEveryMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.linkParam = options.linkParam;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    const params = templateParams(n, this.linkParam);
    // The provider echoes this back in receipts (OutId, SessionContext): alert and step, no personal data.
    const outId = `${n.alert.id}:${n.step}.${n.round}`;
    const started = this.now();
    const attempts: DeliveryAttempt[] = [];
    for (let i = 0; ; i++) {
      try {
        const sentAt = this.now();
        const receipt = await this.provider.send(n.recipient.address, params, outId);
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
        await sleep(wait);
      }
    }
  }

  private async confirm(phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryAttempt> {
    const report = this.provider.report?.bind(this.provider);
    if (!report || this.confirmWithinMs <= 0) return { at: this.now(), ok: true, error: null, receipt };
    const until = sentAt + this.confirmWithinMs;
    for (;;) {
      await sleep(Math.max(0, Math.min(this.reportEveryMs, until - this.now())));
      const got = await report(phone, receipt, sentAt).catch(() => null); // a report we cannot read is no verdict
      if (got?.state === 'failed') {
        return {
          at: this.now(),
          ok: false,
          error: `${receipt.provider} delivery report: ${got.code ?? 'failed'}`,
          receipt: { ...receipt, status: got.code ?? 'failed' },
          retryable: false,
        };
      }
      if (got?.state === 'delivered') {
        return {
          at: this.now(),
          ok: true,
          error: null,
          receipt: { ...receipt, status: got.code ?? 'delivered' },
        };
      }
      if (this.now() >= until) return { at: this.now(), ok: true, error: null, receipt };
    }
  }
}

/** An SMS channel: the contact's phone gets a templated text. */
export function smsChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('sms', provider, options);
}

/** A voice channel: the contact's phone rings and a text-to-speech template is read out. */
export function voiceChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('voice', provider, options);
}
