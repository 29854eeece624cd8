// Work notifications to one person in their company's chat app: a WeCom (企业微信) application message or a
// DingTalk (钉钉) work notification, addressed by their user id in the community's organisation. The
// message is the alert in their language with the one-tap link as its button; retries and failover are
// the provider channel's, as for SMS: a retryable failure (busy, rate limit) is tried again until the
// retry time is spent, a final one (unknown user, wrong app) moves on to the person's next channel.
// DingTalk accepts a message before it knows the person: with `confirmWithinMs` the channel reads the
// task's send result every 2 s, and a user id it names invalid, held back or failed fails over too.
import type { DingtalkApp } from './providers/dingtalk.ts';
import type { WecomApp } from './providers/wecom.ts';
import { workMessage, type WorkMessage } from './providers/work-app.ts';
import { ProviderChannel, type ProviderChannelOptions } from './sms.ts';

export function workAppChannel(
  app: WecomApp | DingtalkApp,
  options: Omit<ProviderChannelOptions, 'linkParam' | 'answerWithinMs'> & { timeZone?: string } = {},
): ProviderChannel<WorkMessage> {
  // DingTalk has the send result within seconds: asked for more often than an SMS report.
  const withDefaults = { reportEveryMs: 2000, ...options };
  return new ProviderChannel(app.id, app, (n) => workMessage(n, options.timeZone), withDefaults);
}
