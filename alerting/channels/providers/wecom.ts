// WeCom (企业微信) application messages to one member, as the WeCom server API documents them:
//   获取access_token  GET  /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET
//                     -> {"errcode":0,"errmsg":"ok","access_token":"...","expires_in":7200}
//                     (https://developer.work.weixin.qq.com/document/path/91039)
//   发送应用消息      POST /cgi-bin/message/send?access_token=TOKEN
//                     {"touser":"UserID","msgtype":"textcard","agentid":1000002,"textcard":{"title","description",
//                      "url","btntxt"}} or {"msgtype":"text","text":{"content"}}
//                     -> {"errcode":0,"errmsg":"ok","invaliduser":"","msgid":"..."}
//                     (https://developer.work.weixin.qq.com/document/path/90236)
// A receiver outside the app's visible range or unknown is named in `invaliduser` with errcode 0 (some
// receivers) or refused with 81013 (all): for our one receiver both are a final failure. Limits: textcard
// title 128 bytes, description 512 bytes; text content 2048 bytes.
import { TOKEN_EXPIRED, wecomRetryable } from './error-codes.ts';
import type { FetchedToken } from './access-token.ts';
import { ProviderError, type MessageProvider, type ProviderReceipt } from './provider.ts';
import { clip, WorkAppClient, type WorkAppOptions, type WorkMessage } from './work-app.ts';

export interface WecomOptions extends Partial<WorkAppOptions> {
  corpId: string;
  /** The app's Secret (from the environment). */
  corpSecret: string;
  agentId: number;
}

export const WECOM_ENDPOINT = 'https://qyapi.weixin.qq.com/';

export function wecomBody(userId: string, agentId: number, m: WorkMessage): Record<string, unknown> {
  const base = { touser: userId, agentid: agentId };
  if (m.link) {
    return {
      ...base,
      msgtype: 'textcard',
      textcard: {
        title: clip(m.title, 128),
        description: clip(m.lines.join('\n'), 512),
        url: m.link,
        btntxt: m.button,
      },
    };
  }
  return { ...base, msgtype: 'text', text: { content: clip([m.title, ...m.lines].join('\n'), 2048) } };
}

export class WecomApp extends WorkAppClient implements MessageProvider<WorkMessage> {
  declare readonly id: 'wecom';

  constructor(private readonly opts: WecomOptions) {
    super('wecom', { ...opts, endpoint: opts.endpoint ?? WECOM_ENDPOINT }, TOKEN_EXPIRED);
  }

  protected fetchToken(): Promise<FetchedToken> {
    const url = this.url('cgi-bin/gettoken', { corpid: this.opts.corpId, corpsecret: this.opts.corpSecret });
    return this.getToken(url, wecomRetryable);
  }

  async send(userId: string, m: WorkMessage): Promise<ProviderReceipt> {
    const { status, answer } = await this.post(
      'cgi-bin/message/send',
      wecomBody(userId, this.opts.agentId, m),
    );
    const receipt = this.receiptOf('message/send', status, answer, answer?.msgid, wecomRetryable);
    const invalid = [answer?.invaliduser, answer?.unlicenseduser]
      .filter((v): v is string => typeof v === 'string')
      .flatMap((v) => v.split('|'));
    if (invalid.includes(userId)) {
      throw new ProviderError(
        "wecom message/send: the user id is unknown or outside the app's visible range (invaliduser)",
        false,
        { ...receipt, status: 'invaliduser' },
      );
    }
    return receipt;
  }
}
