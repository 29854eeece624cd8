// The SMS and voice sections of the notifications file, and the providers they make. Ids, names and
// template codes live in the file; the secrets (Alibaba's AccessKey secret, Tencent's SecretKey) only in
// the environment, so the file can be shown, versioned and logged.
import { z } from 'zod';
import type { Sql } from '../../../database/sql.ts';
import { AliyunSms, AliyunVoice, type AliyunCredentials } from './aliyun.ts';
import type { MessageProvider } from './provider.ts';
import { TencentSms, TencentVoice, type TencentCredentials } from './tencent.ts';
import { TencentCallReports } from './tencent-call-reports.ts';
import { DingtalkApp } from './dingtalk.ts';
import { WecomApp } from './wecom.ts';

export const ENV = {
  aliyunId: 'ANJU_ALIYUN_ACCESS_KEY_ID',
  aliyunSecret: 'ANJU_ALIYUN_ACCESS_KEY_SECRET',
  tencentId: 'ANJU_TENCENT_SECRET_ID',
  tencentSecret: 'ANJU_TENCENT_SECRET_KEY',
  /** The secret part of the URL Tencent pushes call outcomes to (dashboard/plugins/provider-callbacks.ts). */
  tencentCallbackToken: 'ANJU_TENCENT_VMS_CALLBACK_TOKEN',
  wecomSecret: 'ANJU_WECOM_CORP_SECRET',
  dingtalkSecret: 'ANJU_DINGTALK_APP_SECRET',
} as const;

const common = {
  /** Replaces the provider's own endpoint (a local stand-in in tests, a VPC endpoint in production). */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** Retryable failures (throttling, the provider's trouble) are tried again for this long, then fail over. */
  retryWithinSec: z.number().min(0).max(3600).default(60),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
};
const aliyun = {
  provider: z.literal('aliyun'),
  /** Or ANJU_ALIYUN_ACCESS_KEY_ID; the secret is always ANJU_ALIYUN_ACCESS_KEY_SECRET. */
  accessKeyId: z.string().min(1).optional(),
  regionId: z.string().min(1).default('cn-hangzhou'),
};
const tencent = {
  provider: z.literal('tencent'),
  /** Or ANJU_TENCENT_SECRET_ID; the key is always ANJU_TENCENT_SECRET_KEY. */
  secretId: z.string().min(1).optional(),
  region: z.string().min(1).default('ap-guangzhou'),
};
/** Wait this long for the carrier's delivery report (pulled every 5 s); a failed report fails over. 0: don't. */
const confirmWithinSec = z.number().min(0).max(600).default(0);
const playTimes = z.number().int().min(1).max(3).default(2);
/**
 * A call counts as delivered only when someone answers it within this many seconds of being placed (the
 * outcome pulled every 5 s, or pushed by Tencent's callback); busy, no answer, rejected or off fails over
 * to the person's next channel. 0: a call the provider placed counts as delivered.
 */
const answerWithinSec = z.number().min(0).max(600).default(60);
/**
 * The one-tap link in the text: 'url' when the template's fourth variable (${link}, {4}) takes the whole
 * link, 'token' when the template holds `https://<host>/t/` and the variable only the rest; 'none' for a
 * three-variable template. Alibaba limits a variable to 35 characters: a link longer than that needs 'token'.
 */
const link = z.enum(['none', 'url', 'token']).default('none');

export const SmsConfig = z.discriminatedUnion('provider', [
  z.strictObject({
    ...common,
    ...aliyun,
    signName: z.string().min(1),
    /** An approved template with variables ${name}, ${rule}, ${severity}. */
    templateCode: z.string().min(1),
    confirmWithinSec,
    link,
  }),
  z.strictObject({
    ...common,
    ...tencent,
    sdkAppId: z.string().min(1),
    signName: z.string().min(1),
    /** An approved template with variables {1} name, {2} rule, {3} severity. */
    templateId: z.string().min(1),
    confirmWithinSec,
    link,
  }),
]);
export type SmsConfig = z.infer<typeof SmsConfig>;

export const VoiceConfig = z.discriminatedUnion('provider', [
  z.strictObject({
    ...common,
    ...aliyun,
    /** A text-to-speech template with ${name}, ${rule}, ${severity}. */
    ttsCode: z.string().min(1),
    calledShowNumber: z.string().min(1).optional(),
    playTimes,
    answerWithinSec,
  }),
  z.strictObject({
    ...common,
    ...tencent,
    voiceSdkAppId: z.string().min(1),
    /** A voice template with {1} name, {2} rule, {3} severity. */
    templateId: z.string().min(1),
    playTimes,
    answerWithinSec,
  }),
]);
export type VoiceConfig = z.infer<typeof VoiceConfig>;

/** WeCom application messages to each person who chose 'wecom' (their user id kept with their account). */
export const WecomConfig = z.strictObject({
  endpoint: common.endpoint,
  retryWithinSec: common.retryWithinSec,
  timeoutMs: common.timeoutMs,
  /** 企业ID (ww...); the app's Secret is always ANJU_WECOM_CORP_SECRET. */
  corpId: z.string().min(1).max(64),
  /** The AgentId of the self-built app that sends. */
  agentId: z.number().int().positive(),
});
export type WecomConfig = z.infer<typeof WecomConfig>;

/** DingTalk work notifications to each person who chose 'dingtalk' (their user id kept with their account). */
export const DingtalkConfig = z.strictObject({
  endpoint: common.endpoint,
  retryWithinSec: common.retryWithinSec,
  timeoutMs: common.timeoutMs,
  /** The app's AppKey; its AppSecret is always ANJU_DINGTALK_APP_SECRET. */
  appKey: z.string().min(1).max(64),
  agentId: z.number().int().positive(),
  /**
   * DingTalk accepts a message before it knows the person: wait this long for the task's send result
   * (asked every 2 s); a user id it names invalid, held back or failed fails over. 0: don't wait.
   */
  confirmWithinSec: z.number().min(0).max(60).default(10),
});
export type DingtalkConfig = z.infer<typeof DingtalkConfig>;

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string, section: string): string {
  const value = env[name];
  if (!value) throw new Error(`notifications ${section}: set ${name} in the environment`);
  return value;
}

function aliyunCredentials(
  c: { accessKeyId?: string | undefined },
  env: Env,
  section: string,
): AliyunCredentials {
  return {
    accessKeyId: c.accessKeyId ?? required(env, ENV.aliyunId, section),
    accessKeySecret: required(env, ENV.aliyunSecret, section),
  };
}

function tencentCredentials(
  c: { secretId?: string | undefined },
  env: Env,
  section: string,
): TencentCredentials {
  return {
    secretId: c.secretId ?? required(env, ENV.tencentId, section),
    secretKey: required(env, ENV.tencentSecret, section),
  };
}

export function smsProvider(c: SmsConfig, env: Env): MessageProvider {
  const base = { endpoint: c.endpoint, timeoutMs: c.timeoutMs };
  return c.provider === 'aliyun'
    ? new AliyunSms({
        ...base,
        credentials: aliyunCredentials(c, env, 'sms'),
        regionId: c.regionId,
        signName: c.signName,
        templateCode: c.templateCode,
      })
    : new TencentSms({
        ...base,
        credentials: tencentCredentials(c, env, 'sms'),
        region: c.region,
        sdkAppId: c.sdkAppId,
        signName: c.signName,
        templateId: c.templateId,
      });
}

/**
 * Where a Tencent voice section's call outcomes arrive (pushed, with the callback token from the
 * environment), when calls are to be answered; none for Alibaba, whose outcomes are pulled.
 */
export function voiceCallbacks(
  c: VoiceConfig | undefined,
  env: Env,
  /** The alerts database, where every process sharing it sees the outcomes any of them received. */
  sql: Sql,
): { reports: TencentCallReports; token: string } | undefined {
  if (c?.provider !== 'tencent' || c.answerWithinSec === 0) return undefined;
  const token = required(env, ENV.tencentCallbackToken, 'voice (answerWithinSec)');
  if (token.length < 16)
    throw new Error(`notifications voice: ${ENV.tencentCallbackToken} is too short (16+)`);
  return { reports: new TencentCallReports(sql), token };
}

export function voiceProvider(c: VoiceConfig, env: Env, callReports?: TencentCallReports): MessageProvider {
  const base = { endpoint: c.endpoint, timeoutMs: c.timeoutMs, playTimes: c.playTimes };
  return c.provider === 'aliyun'
    ? new AliyunVoice({
        ...base,
        credentials: aliyunCredentials(c, env, 'voice'),
        regionId: c.regionId,
        ttsCode: c.ttsCode,
        ...(c.calledShowNumber ? { calledShowNumber: c.calledShowNumber } : {}),
      })
    : new TencentVoice({
        ...base,
        credentials: tencentCredentials(c, env, 'voice'),
        region: c.region,
        voiceSdkAppId: c.voiceSdkAppId,
        templateId: c.templateId,
        ...(callReports ? { callReports } : {}),
      });
}

export function wecomApp(c: WecomConfig, env: Env): WecomApp {
  return new WecomApp({
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    timeoutMs: c.timeoutMs,
    corpId: c.corpId,
    corpSecret: required(env, ENV.wecomSecret, 'wecom'),
    agentId: c.agentId,
  });
}

export function dingtalkApp(c: DingtalkConfig, env: Env): DingtalkApp {
  return new DingtalkApp({
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    timeoutMs: c.timeoutMs,
    appKey: c.appKey,
    appSecret: required(env, ENV.dingtalkSecret, 'dingtalk'),
    agentId: c.agentId,
  });
}
