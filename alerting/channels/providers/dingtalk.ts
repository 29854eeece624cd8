// DingTalk (钉钉) work notifications (工作通知) to one member, as the DingTalk server API documents them:
//   获取企业内部应用的access_token  GET /gettoken?appkey=KEY&appsecret=SECRET
//                     -> {"errcode":0,"errmsg":"ok","access_token":"...","expires_in":7200}
//   发送工作通知      POST /topapi/message/corpconversation/asyncsend_v2?access_token=TOKEN
//                     {"agent_id":123,"userid_list":"userid1,userid2","msg":{"msgtype":"action_card"|"markdown"|
//                      "text",...}}  -> {"errcode":0,"errmsg":"ok","task_id":256271667526,"request_id":"..."}
//                     (https://open.dingtalk.com/document/orgapp/asynchronous-sending-of-enterprise-session-messages)
//   获取工作通知消息的发送结果  POST /topapi/message/corpconversation/getsendresult?access_token=TOKEN
//                     {"agent_id":123,"task_id":256271667526} -> {"errcode":0,"errmsg":"ok","send_result":
//                      {"invalid_user_id_list":[],"forbidden_user_id_list":[],"failed_user_id_list":[],
//                       "read_user_id_list":[],"unread_user_id_list":[],"invalid_dept_id_list":[],
//                       "forbidden_list":[{"code":"143106","count":1,"userid":"..."}]}}
//                     (https://help.dingtalk.io/open/development/gets-the-result-of-sending-messages-asynchronously-to-the-enterprise,
//                      dingtalk.oapi.message.corpconversation.getsendresult, https://developer.alibaba.com/docs/api.htm?apiId=37024)
// The message is at most 2048 bytes. Sending is asynchronous: errcode 0 means the task was accepted, not that
// the person got it ("接口返回成功并不表示用户收到消息"); a user id DingTalk does not know, one that left the
// organisation or one its flow control held back is named only in the task's send result, which report()
// reads. DingTalk shows the same content to the same person once a day only; each of our messages differs
// (its own link, its reminder number), so a second alert's message is not swallowed.
import { z } from 'zod';
import { dingtalkRetryable, TOKEN_EXPIRED } from './error-codes.ts';
import type { FetchedToken } from './access-token.ts';
import type { DeliveryReport, MessageProvider, ProviderReceipt } from './provider.ts';
import { clip, WorkAppClient, type WorkAppOptions, type WorkMessage } from './work-app.ts';

export interface DingtalkOptions extends Partial<WorkAppOptions> {
  appKey: string;
  /** The app's AppSecret (from the environment). */
  appSecret: string;
  agentId: number;
}

export const DINGTALK_ENDPOINT = 'https://oapi.dingtalk.com/';
/** 88 鉴权异常 may be a stale token too (its sub_code says): one more try with a new one. */
const REFRESH_ON = new Set([...TOKEN_EXPIRED, 88]);

export function dingtalkMsg(m: WorkMessage): Record<string, unknown> {
  const markdown = clip([`### ${m.title}`, '', ...m.lines.map((l) => `- ${l}`)].join('\n'), 1500);
  if (m.link) {
    return {
      msgtype: 'action_card',
      action_card: { title: clip(m.title, 128), markdown, single_title: m.button, single_url: m.link },
    };
  }
  return { msgtype: 'markdown', markdown: { title: clip(m.title, 128), text: markdown } };
}

/** A user id list: documented as String[]; a comma-separated string (older SDKs show one) is read too. */
const UserIds = z
  .union([z.array(z.string()), z.string().transform((s) => s.split(',').filter(Boolean))])
  .optional()
  .catch(undefined);

/** getsendresult's send_result; whatever else it carries is ignored. */
export const SendResult = z
  .object({
    invalid_user_id_list: UserIds,
    forbidden_user_id_list: UserIds,
    failed_user_id_list: UserIds,
    read_user_id_list: UserIds,
    unread_user_id_list: UserIds,
    /** Why flow control held a message back: its code (143106 same content twice a day, ...) and limit. */
    forbidden_list: z
      .array(
        z.object({
          code: z.string().optional(),
          count: z.number().optional(),
          userid: z.string().optional(),
        }),
      )
      .optional()
      .catch(undefined),
  })
  .catch({});
export type SendResult = z.infer<typeof SendResult>;

/** The lists that say the message did not reach the person, and what each means. */
const NOT_REACHED = [
  ['invalid_user_id_list', 'user not reached: unknown user id, or not in the organisation'],
  ['forbidden_user_id_list', 'user not reached: held back by flow control'],
  ['failed_user_id_list', 'user not reached: sending failed'],
] as const;
const REACHED = ['read_user_id_list', 'unread_user_id_list'] as const;

/**
 * What became of a work notification to `userId`, by the list its task's send result names them in:
 * delivered (read or unread), failed (invalid, forbidden, failed; the list is the code), or not known yet.
 */
export function dingtalkSendOutcome(result: SendResult, userId: string): DeliveryReport {
  for (const [list, meaning] of NOT_REACHED) {
    if (!result[list]?.includes(userId)) continue;
    const held =
      list === 'forbidden_user_id_list' ? result.forbidden_list?.find((f) => f.userid === userId) : undefined;
    const limit = held?.code
      ? ` (${held.code}${held.count === undefined ? '' : `, limit ${held.count}`})`
      : '';
    return { state: 'failed', code: list, detail: `${meaning}${limit}` };
  }
  const reached = REACHED.find((list) => result[list]?.includes(userId));
  return reached ? { state: 'delivered', code: reached } : { state: 'pending', code: null };
}

export class DingtalkApp extends WorkAppClient implements MessageProvider<WorkMessage> {
  declare readonly id: 'dingtalk';

  constructor(private readonly opts: DingtalkOptions) {
    super('dingtalk', { ...opts, endpoint: opts.endpoint ?? DINGTALK_ENDPOINT }, REFRESH_ON);
  }

  protected fetchToken(): Promise<FetchedToken> {
    const url = this.url('gettoken', { appkey: this.opts.appKey, appsecret: this.opts.appSecret });
    return this.getToken(url, dingtalkRetryable);
  }

  async send(userId: string, m: WorkMessage): Promise<ProviderReceipt> {
    const { status, answer } = await this.post('topapi/message/corpconversation/asyncsend_v2', {
      agent_id: this.opts.agentId,
      userid_list: userId,
      msg: dingtalkMsg(m),
    });
    return this.receiptOf('asyncsend_v2', status, answer, answer?.task_id, dingtalkRetryable);
  }

  /**
   * The accepted task's send result for `userId` (the channel asks every few seconds until its deadline).
   * Rejects with a ProviderError when the result cannot be read (a refused token is replaced once first);
   * the channel asks again, and by its deadline counts the accepted message delivered, unconfirmed: our
   * failing to read the result is no failure to reach the person (ProviderChannel.confirm says more).
   */
  async report(userId: string, receipt: ProviderReceipt): Promise<DeliveryReport> {
    // errcode 0 without a task id: nothing to look up, so the accepted message stays unconfirmed.
    if (!receipt.messageId) return { state: 'pending', code: null };
    const { status, answer } = await this.post('topapi/message/corpconversation/getsendresult', {
      agent_id: this.opts.agentId,
      task_id: Number(receipt.messageId),
    });
    this.receiptOf('getsendresult', status, answer, receipt.messageId, dingtalkRetryable); // throws unless errcode 0
    return dingtalkSendOutcome(SendResult.parse(answer?.send_result), userId);
  }
}
