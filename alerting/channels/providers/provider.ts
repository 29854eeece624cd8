// What an SMS or voice-call provider does for Anju: send one templated message to one phone, and say
// what happened in the provider's own words (its request id, message or call id, status), so every
// attempt can be traced in the provider's console. Failures say whether trying again can help.
import type { Severity } from '../../signals.ts';

/** The template variables of every Anju message: who, what, how bad (Chinese, as the templates are). */
export interface TemplateParams {
  name: string;
  rule: string;
  severity: string;
  /** The one-tap link (or its token), only where the template has a fourth variable for it. */
  link?: string;
}

export interface ProviderReceipt {
  provider: 'aliyun' | 'tencent' | 'wecom' | 'dingtalk';
  /** The provider's request id (Alibaba RequestId, Tencent RequestId). */
  requestId: string | null;
  /** The message or call id to look the delivery up by (Alibaba BizId / CallId, Tencent SerialNo / CallId). */
  messageId: string | null;
  /** The provider's status code for this message ("OK", "Ok", an error code, a report or call state). */
  status: string;
  /** For a voice call whose outcome was read back: whether someone answered it. */
  answered?: boolean;
}

/**
 * The carrier's word on an accepted message, read back from the provider's report API. For a voice call
 * 'delivered' means answered and 'failed' not answered (busy, no answer, rejected, off, unreachable).
 */
export interface DeliveryReport {
  state: 'delivered' | 'failed' | 'pending';
  /** The provider's report code (Alibaba ErrCode or call state, Tencent Description or result), if any yet. */
  code: string | null;
  /** What the code means, in a few words, for the trail. */
  detail?: string;
}

/** `P`: what one message is, template parameters for SMS and calls, the words themselves for work apps. */
export interface MessageProvider<P = TemplateParams> {
  readonly id: ProviderReceipt['provider'];
  /**
   * Resolves with the receipt of an accepted message to `address` (a phone, a WeCom/DingTalk user id);
   * rejects with a ProviderError.
   */
  send(address: string, message: P, outId: string): Promise<ProviderReceipt>;
  /**
   * Where the provider reports delivery (an SMS) or the outcome of a call: what became of a message sent
   * at `sentAt`. Rejects with a ProviderError when the report cannot be read.
   */
  report?(phone: string, receipt: ProviderReceipt, sentAt: number): Promise<DeliveryReport>;
}

/** A refusal or failure of a provider. The message never carries a secret: only codes and texts the provider returned. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly receipt: ProviderReceipt | null,
  ) {
    super(message);
  }
}

const SEVERITY_ZH: Record<Severity, string> = {
  info: '提示',
  warning: '警告',
  alarm: '报警',
  critical: '危急',
};

export function severityZh(severity: Severity): string {
  return SEVERITY_ZH[severity];
}
