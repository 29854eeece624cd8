// The operator's notifications file: how to reach people beyond the console (SMTP, webhooks) and the
// escalation policies that say whom to tell when. One YAML or JSON file, checked by zod like the rules.
//
//   smtp:
//     url: smtp://alerts:secret@mail.example.org:587   # smtps:// for implicit TLS
//     from: '"安居 Anju" <alerts@example.org>'
//   webhooks:
//     - { id: duty-robot, url: https://oapi.dingtalk.com/robot/send?access_token=..., secret: ..., format: dingtalk }
//   sms:      # Alibaba Cloud; or { provider: tencent, sdkAppId, signName, templateId }
//     { provider: aliyun, signName: 安居, templateCode: SMS_123456789, retryWithinSec: 60 }
//   voice:    # secrets from ANJU_ALIYUN_ACCESS_KEY_SECRET / ANJU_TENCENT_SECRET_KEY, never from here
//     { provider: tencent, voiceSdkAppId: '1400000000', templateId: '12345' }
//   wecom:    # WeCom app messages to each person who chose it; secret from ANJU_WECOM_CORP_SECRET
//     { corpId: ww0123456789abcdef, agentId: 1000002 }
//   dingtalk: # DingTalk work notifications; secret from ANJU_DINGTALK_APP_SECRET
//     { appKey: dingabcdefghijklmn, agentId: 2345678901, confirmWithinSec: 10 }
//   links:    # "I'm on it" links in messages, working 24 h or until the alert closes
//     { baseUrl: https://anju.example.cn, ttlHours: 24 }
//   escalation:
//     default: { steps: [{ afterMin: 0, notify: [console] }, { afterMin: 2, notify: [family] }] }
import { z } from 'zod';
import { loadConfigFile, parseConfigText } from '../ops/config-file.ts';
import { DEFAULT_POLICIES, EscalationPolicies } from './alerts/policy.ts';
import type { Channel } from './channels/channel.ts';
import { EmailChannel } from './channels/email.ts';
import {
  DingtalkConfig,
  dingtalkApp,
  SmsConfig,
  smsProvider,
  VoiceConfig,
  voiceProvider,
  WecomConfig,
  wecomApp,
} from './channels/providers/config.ts';
import { workAppChannel } from './channels/work-apps.ts';
import { smsChannel, voiceChannel } from './channels/sms.ts';
import type { TencentCallReports } from './channels/providers/tencent-call-reports.ts';
import { WebhookChannel, WebhookEndpoint } from './channels/webhook.ts';

export const NotificationsConfig = z.strictObject({
  smtp: z
    .strictObject({
      url: z
        .url({ protocol: /^smtps?$/ })
        .meta({ description: 'smtp://user:pass@host:port, or smtps:// for TLS.' }),
      from: z.string().min(3),
    })
    .optional(),
  webhooks: z.array(WebhookEndpoint).default([]),
  sms: SmsConfig.optional(),
  voice: VoiceConfig.optional(),
  wecom: WecomConfig.optional(),
  dingtalk: DingtalkConfig.optional(),
  escalation: EscalationPolicies.default(DEFAULT_POLICIES),
  timeZone: z.string().default('Asia/Shanghai'),
  /** One-tap "I'm on it" links in SMS, e-mail and robot messages; none without this section. */
  links: z
    .strictObject({
      baseUrl: z.url({ protocol: /^https?$/ }).meta({
        description:
          "Anju's address as a phone reaches it, e.g. https://anju.example.cn (links are <baseUrl>/t/<token>).",
      }),
      ttlHours: z.number().min(1).max(168).default(24),
    })
    .optional(),
});
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;

export function parseNotifications(text: string, source: string): NotificationsConfig {
  return parseConfigText(NotificationsConfig, text, source);
}

export function loadNotifications(file: string | undefined): NotificationsConfig {
  return file === undefined ? NotificationsConfig.parse({}) : loadConfigFile(NotificationsConfig, file);
}

/** The channels the configuration asks for, beside the console's own; provider secrets come from `env`. */
export function notificationChannels(
  config: NotificationsConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** Where Tencent's pushed call outcomes are kept (voiceCallbacks()), for a Tencent voice section. */
  callReports?: TencentCallReports,
): Channel[] {
  const channels: Channel[] = [];
  if (config.smtp) {
    const url = new URL(config.smtp.url);
    channels.push(
      new EmailChannel({
        smtp: {
          host: url.hostname,
          port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
          secure: url.protocol === 'smtps:',
          ...(url.username
            ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
            : {}),
        },
        from: config.smtp.from,
        timeZone: config.timeZone,
      }),
    );
  }
  if (config.webhooks.length > 0) {
    channels.push(new WebhookChannel({ endpoints: config.webhooks, timeZone: config.timeZone }));
  }
  if (config.sms) {
    const retryWithinMs = config.sms.retryWithinSec * 1000;
    const confirmWithinMs = config.sms.confirmWithinSec * 1000;
    const linkParam = config.sms.link === 'none' ? undefined : config.sms.link;
    channels.push(
      smsChannel(smsProvider(config.sms, env), {
        retryWithinMs,
        confirmWithinMs,
        ...(linkParam ? { linkParam } : {}),
      }),
    );
  }
  if (config.voice) {
    const retryWithinMs = config.voice.retryWithinSec * 1000;
    const answerWithinMs = config.voice.answerWithinSec * 1000;
    channels.push(
      voiceChannel(voiceProvider(config.voice, env, callReports), { retryWithinMs, answerWithinMs }),
    );
  }
  const timeZone = config.timeZone;
  if (config.wecom) {
    const retryWithinMs = config.wecom.retryWithinSec * 1000;
    channels.push(workAppChannel(wecomApp(config.wecom, env), { retryWithinMs, timeZone }));
  }
  if (config.dingtalk) {
    const retryWithinMs = config.dingtalk.retryWithinSec * 1000;
    const confirmWithinMs = config.dingtalk.confirmWithinSec * 1000;
    channels.push(
      workAppChannel(dingtalkApp(config.dingtalk, env), { retryWithinMs, confirmWithinMs, timeZone }),
    );
  }
  return channels;
}
