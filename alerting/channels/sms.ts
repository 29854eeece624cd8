// Text messages and voice notification calls through an outside provider (Alibaba Cloud or Tencent
// Cloud, providers/). Both carry the same templated message: the resident's name, the rule's Chinese
// name and the severity, filled into a template the operator had approved by the provider. A retryable
// failure (throttling, the provider's own trouble, no answer) is tried again with growing waits until the
// retry time is spent; a final one stops at once, so escalation can move on to the next channel.
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
  type TemplateParams,
} from './providers/provider.ts';

export interface ProviderChannelOptions {
  /** Retryable failures are tried again until this much time has passed since the first attempt. */
  retryWithinMs?: number;
  /** Wait before the second attempt; doubled for each further one, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

export function templateParams(n: Notification): TemplateParams {
  return {
    name: n.resident?.name ?? n.alert.residentId,
    rule: ruleNameZh(n.alert.ruleId),
    severity: severityZh(n.alert.severity),
  };
}

export class ProviderChannel implements Channel {
  private readonly retryWithinMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;

  constructor(
    readonly name: 'sms' | 'voice',
    private readonly provider: MessageProvider,
    options: ProviderChannelOptions = {},
  ) {
    this.retryWithinMs = options.retryWithinMs ?? 60_000;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    const params = templateParams(n);
    // The provider echoes this back in receipts (OutId, SessionContext): alert and step, no personal data.
    const outId = `${n.alert.id}:${n.step}.${n.round}`;
    const started = this.now();
    const attempts: DeliveryAttempt[] = [];
    for (let i = 0; ; i++) {
      try {
        const receipt = await this.provider.send(n.recipient.address, params, outId);
        attempts.push({ at: this.now(), ok: true, error: null, receipt });
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
}

/** An SMS channel: the contact's phone gets a templated text. */
export function smsChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('sms', provider, options);
}

/** A voice channel: the contact's phone rings and a text-to-speech template is read out. */
export function voiceChannel(provider: MessageProvider, options?: ProviderChannelOptions): ProviderChannel {
  return new ProviderChannel('voice', provider, options);
}
