// Text messages. Anju ships no SMS provider: every provider (Aliyun, Tencent Cloud, ...) needs an account
// and a signed template, and none can be reached from where Anju is built. An operator plugs one in by
// implementing SmsProvider.
import { errorText, type Channel, type DeliveryResult, type Notification } from './channel.ts';
import { ruleNameZh } from './message.ts';

export interface SmsProvider {
  /** Sends `text` to `phone`; rejects when the provider refuses or cannot be reached. */
  send(phone: string, text: string): Promise<void>;
}

const SEVERITY_ZH = { info: '提示', warning: '警告', alarm: '报警', critical: '危急' } as const;

/** One short text: the Chinese line first (SMS in China), the English summary after it. */
export function smsText(n: Notification): string {
  const who = n.resident?.name ?? n.alert.residentId;
  return `【安居】${who}${ruleNameZh(n.alert.ruleId)}（${SEVERITY_ZH[n.alert.severity]}），请尽快处理。Anju: ${n.alert.summary}`;
}

export class SmsChannel implements Channel {
  readonly name = 'sms';

  constructor(
    private readonly provider: SmsProvider,
    private readonly now: () => number = Date.now,
  ) {}

  async send(n: Notification): Promise<DeliveryResult> {
    try {
      await this.provider.send(n.recipient.address, smsText(n));
      return { attempts: [{ at: this.now(), ok: true, error: null }] };
    } catch (err) {
      return { attempts: [{ at: this.now(), ok: false, error: errorText(err) }] };
    }
  }
}
