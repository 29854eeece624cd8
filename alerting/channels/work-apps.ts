// Work notifications to one person in their company's chat app: a WeCom (企业微信) application message or a
// DingTalk (钉钉) work notification, addressed by their user id in the community's organisation. The
// message is the alert in their language with the one-tap link as its button; retries and failover are
// the provider channel's, as for SMS: a retryable failure (busy, rate limit) is tried again until the
// retry time is spent, a final one (unknown user, wrong app) moves on to the person's next channel.
import type { DingtalkApp } from './providers/dingtalk.ts';
import type { WecomApp } from './providers/wecom.ts';
import { workMessage, type WorkMessage } from './providers/work-app.ts';
import { ProviderChannel, type ProviderChannelOptions } from './sms.ts';

export function workAppChannel(
  app: WecomApp | DingtalkApp,
  options: Omit<ProviderChannelOptions, 'linkParam' | 'answerWithinMs' | 'confirmWithinMs'> & {
    timeZone?: string;
  } = {},
): ProviderChannel<WorkMessage> {
  return new ProviderChannel(app.id, app, (n) => workMessage(n, options.timeZone), options);
}
