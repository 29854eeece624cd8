// Notification channels: each carries one notification to one recipient and reports every attempt.
export {
  errorText,
  type Channel,
  type DeliveryAttempt,
  type DeliveryResult,
  type Notification,
} from './channel.ts';
export {
  dingtalkSignedUrl,
  signBody,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
  WebhookChannel,
  WebhookEndpoint,
  type WebhookOptions,
} from './webhook.ts';
export { EmailChannel, emailContent, type EmailOptions } from './email.ts';
export {
  ProviderChannel,
  smsChannel,
  templateParams,
  voiceChannel,
  type ProviderChannelOptions,
} from './sms.ts';
export { AliyunSms, AliyunVoice, type AliyunCredentials } from './providers/aliyun.ts';
export { TencentSms, TencentVoice, type TencentCredentials } from './providers/tencent.ts';
export {
  ProviderError,
  type MessageProvider,
  type ProviderReceipt,
  type TemplateParams,
} from './providers/provider.ts';
export { alertMessage, ruleNameZh } from './message.ts';
