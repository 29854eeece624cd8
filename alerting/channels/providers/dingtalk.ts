// DingTalk (钉钉) work notifications (工作通知) to one member, as the DingTalk server API documents them:
//   获取企业内部应用的access_token  GET /gettoken?appkey=KEY&appsecret=SECRET
//                     -> {"errcode":0,"errmsg":"ok","access_token":"...","expires_in":7200}
//   发送工作通知      POST /topapi/message/corpconversation/asyncsend_v2?access_token=TOKEN
//                     {"agent_id":123,"userid_list":"userid1,userid2","msg":{"msgtype":"action_card"|"markdown"|
//                      "text",...}}  -> {"errcode":0,"errmsg":"ok","task_id":256271667526,"request_id":"..."}
//                     (https://open.dingtalk.com/document/orgapp/asynchronous-sending-of-enterprise-session-messages)
// The message is at most 2048 bytes. Sending is asynchronous: errcode 0 means the task was accepted.
// DingTalk shows the same content to the same person once a day only; each of our messages differs (its
// own link, its reminder number), so a second alert's message is not swallowed.
import { dingtalkRetryable, TOKEN_EXPIRED } from './error-codes.ts';
import type { FetchedToken } from './access-token.ts';
import type { MessageProvider, ProviderReceipt } from './provider.ts';
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
}
