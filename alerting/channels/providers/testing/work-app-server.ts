// Local stand-ins for the WeCom (企业微信) and DingTalk (钉钉) server APIs, as documented (wecom.ts and
// dingtalk.ts cite the pages): the token endpoint checks the app's id and secret and issues a token that
// expires after `expires_in` seconds on the server's clock; the send endpoint checks the token (42001 once
// expired, 40014 unknown), the app's agent id and the message's documented shape, knows which user ids
// exist, and answers as the platform does. DingTalk accepts any user id and keeps each task's send result
// for getsendresult: a member in unread_user_id_list, anyone else in invalid_user_id_list, unless a test
// put them elsewhere. Tests can expire every token and script error codes.
import { randomBytes } from 'node:crypto';
import { FailureScript, listenLocal, type LocalServer, type ScriptedFailure } from './http-server.ts';

export interface WorkAppServerOptions {
  platform: 'wecom' | 'dingtalk';
  /** corpid / appkey, and the app's secret. */
  appId: string;
  secret: string;
  agentId: number;
  /** The user ids of the organisation's members. */
  users: string[];
  /** expires_in of each token, seconds. */
  tokenTtlSec?: number;
  now?: () => number;
}

export interface ReceivedMessage {
  userId: string;
  body: Record<string, unknown>;
}

/** The getsendresult lists a DingTalk task's receiver can be in. */
export type SendResultList =
  | 'invalid_user_id_list'
  | 'forbidden_user_id_list'
  | 'failed_user_id_list'
  | 'read_user_id_list'
  | 'unread_user_id_list';

/** Where a task's one receiver is in its send result: null while DingTalk names them in no list yet. */
interface TaskResult {
  userId: string;
  list: SendResultList | null;
  /** Its forbidden_list entry (flow control code and limit), for forbidden_user_id_list. */
  forbidden?: { code: string; count: number };
}

const PATHS = {
  wecom: { token: '/cgi-bin/gettoken', send: '/cgi-bin/message/send', id: 'corpid', secret: 'corpsecret' },
  dingtalk: {
    token: '/gettoken',
    send: '/topapi/message/corpconversation/asyncsend_v2',
    id: 'appkey',
    secret: 'appsecret',
  },
} as const;
const DINGTALK_SEND_RESULT = '/topapi/message/corpconversation/getsendresult';

type Json = Record<string, unknown>;

export class WorkAppServer {
  readonly messages: ReceivedMessage[] = [];
  /** How many tokens were issued. */
  tokensIssued = 0;
  private readonly tokens = new Map<string, number>();
  private readonly script = new FailureScript();
  /** How many times getsendresult was asked (answered or not). */
  resultReads = 0;
  private readonly tasks = new Map<number, TaskResult>();
  private readonly placed = new Map<string, Omit<TaskResult, 'userId'>>();
  private server: LocalServer | undefined;
  private nextTask = 256271667526;

  constructor(private readonly opts: WorkAppServerOptions) {}

  get url(): string {
    return this.server!.url;
  }

  /** The next `times` sends to `phone` (a user id here, or '*') answer errcode `code`. */
  fail(failure: Omit<ScriptedFailure, 'phone'> & { userId: string }): void {
    this.script.add({ ...failure, phone: failure.userId });
  }

  /**
   * Where getsendresult puts `userId` for tasks sent to them from now on: a list (with the flow control
   * code for forbidden_user_id_list), or null for a result that never names them.
   */
  placeInSendResult(
    userId: string,
    list: SendResultList | null,
    forbidden?: { code: string; count: number },
  ): void {
    this.placed.set(userId, { list, ...(forbidden ? { forbidden } : {}) });
  }

  /** Every token issued so far is now expired, as after two hours. */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  async start(): Promise<this> {
    this.server = await listenLocal(async (req, body) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const paths = PATHS[this.opts.platform];
      if (req.method === 'GET' && url.pathname === paths.token) return this.token(url, paths);
      if (req.method === 'POST' && url.pathname === paths.send) return this.send(url, body);
      if (req.method === 'POST' && this.opts.platform === 'dingtalk' && url.pathname === DINGTALK_SEND_RESULT)
        return this.sendResult(url, body);
      return { status: 404, json: { errcode: 404, errmsg: 'no such API' } };
    });
    return this;
  }

  close(): Promise<void> {
    return this.server?.close() ?? Promise.resolve();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private token(url: URL, paths: (typeof PATHS)['wecom' | 'dingtalk']) {
    if (
      url.searchParams.get(paths.id) !== this.opts.appId ||
      url.searchParams.get(paths.secret) !== this.opts.secret
    ) {
      // WeCom 40001 不合法的secret参数; DingTalk 40089 不合法的corpid或corpsecret.
      const errcode = this.opts.platform === 'wecom' ? 40001 : 40089;
      return { status: 200, json: { errcode, errmsg: 'invalid credential' } };
    }
    const token = randomBytes(24).toString('base64url');
    const ttl = this.opts.tokenTtlSec ?? 7200;
    this.tokens.set(token, this.now() + ttl * 1000);
    this.tokensIssued += 1;
    return { status: 200, json: { errcode: 0, errmsg: 'ok', access_token: token, expires_in: ttl } };
  }

  /** The request's JSON body once its token is good, or the platform's refusal. */
  private authorized(url: URL, text: string): { body: Json } | { refusal: { status: number; json: Json } } {
    const until = this.tokens.get(url.searchParams.get('access_token') ?? '');
    if (until === undefined)
      return { refusal: { status: 200, json: { errcode: 40014, errmsg: 'invalid access_token' } } };
    if (until <= this.now())
      return { refusal: { status: 200, json: { errcode: 42001, errmsg: 'access_token expired' } } };
    try {
      return { body: JSON.parse(text) as Json };
    } catch {
      return { refusal: { status: 200, json: { errcode: 47001, errmsg: 'data format error' } } };
    }
  }

  private send(url: URL, text: string): { status: number; json: Json } {
    const request = this.authorized(url, text);
    if ('refusal' in request) return request.refusal;
    return this.opts.platform === 'wecom' ? this.wecom(request.body) : this.dingtalk(request.body);
  }

  private wecom(body: Json): { status: number; json: Json } {
    if (body.agentid !== this.opts.agentId)
      return { status: 200, json: { errcode: 40056, errmsg: 'invalid agentid' } };
    const type = body.msgtype;
    const card = body.textcard as Json | undefined;
    const wellFormed =
      (type === 'text' && typeof (body.text as Json | undefined)?.content === 'string') ||
      (type === 'textcard' &&
        typeof card?.title === 'string' &&
        typeof card.description === 'string' &&
        typeof card.url === 'string');
    if (!wellFormed) return { status: 200, json: { errcode: 40008, errmsg: 'invalid message type' } };
    if (
      type === 'textcard' &&
      (Buffer.byteLength(card!.description as string) > 512 || Buffer.byteLength(card!.title as string) > 128)
    )
      return { status: 200, json: { errcode: 44004, errmsg: 'textcard too long' } };
    const userId = String(body.touser);
    const scripted = this.script.take(userId, 'message/send');
    if (scripted)
      return {
        status: 200,
        json: { errcode: Number(scripted.code), errmsg: scripted.message ?? 'scripted' },
      };
    // One receiver: unknown is refused outright (81013: all receivers invalid).
    if (!this.opts.users.includes(userId))
      return {
        status: 200,
        json: { errcode: 81013, errmsg: 'user & party & tag all invalid', invaliduser: userId },
      };
    this.messages.push({ userId, body });
    return {
      status: 200,
      json: { errcode: 0, errmsg: 'ok', invaliduser: '', msgid: `msg-${this.messages.length}` },
    };
  }

  private noPermission(): { status: number; json: Json } {
    return {
      status: 200,
      json: { errcode: 88, sub_code: '60011', errmsg: 'no permission', sub_msg: '没有调用该接口的权限' },
    };
  }

  private dingtalk(body: Json): { status: number; json: Json } {
    if (body.agent_id !== this.opts.agentId) return this.noPermission();
    const msg = body.msg as Json | undefined;
    const type = msg?.msgtype;
    if (typeof type !== 'string' || typeof msg?.[type] !== 'object')
      return { status: 200, json: { errcode: 40035, errmsg: '不合法的参数' } };
    if (Buffer.byteLength(JSON.stringify(msg)) > 2048)
      return { status: 200, json: { errcode: 40035, errmsg: '消息过长' } };
    const userId = String(body.userid_list);
    const scripted = this.script.take(userId, 'asyncsend_v2');
    if (scripted)
      return {
        status: 200,
        json: { errcode: Number(scripted.code), errmsg: scripted.message ?? 'scripted' },
      };
    // Accepted whoever it is for: whether the person was reached shows only in the task's send result.
    this.messages.push({ userId, body });
    const member = this.opts.users.includes(userId);
    const placed = this.placed.get(userId) ?? {
      list: member ? 'unread_user_id_list' : 'invalid_user_id_list',
    };
    const taskId = this.nextTask++;
    this.tasks.set(taskId, { userId, ...placed });
    return {
      status: 200,
      json: { errcode: 0, errmsg: 'ok', task_id: taskId, request_id: randomBytes(6).toString('hex') },
    };
  }

  private sendResult(url: URL, text: string): { status: number; json: Json } {
    this.resultReads += 1;
    const request = this.authorized(url, text);
    if ('refusal' in request) return request.refusal;
    const { body } = request;
    if (body.agent_id !== this.opts.agentId) return this.noPermission();
    const task = typeof body.task_id === 'number' ? this.tasks.get(body.task_id) : undefined;
    if (!task) return { status: 200, json: { errcode: 40035, errmsg: '不合法的参数' } };
    const scripted = this.script.take(task.userId, 'getsendresult');
    if (scripted)
      return {
        status: 200,
        json: { errcode: Number(scripted.code), errmsg: scripted.message ?? 'scripted' },
      };
    const lists: Record<SendResultList, string[]> = {
      invalid_user_id_list: [],
      forbidden_user_id_list: [],
      failed_user_id_list: [],
      read_user_id_list: [],
      unread_user_id_list: [],
    };
    if (task.list) lists[task.list].push(task.userId);
    const forbidden = task.forbidden ? [{ ...task.forbidden, userid: task.userId }] : [];
    return {
      status: 200,
      json: {
        errcode: 0,
        errmsg: 'ok',
        send_result: { ...lists, invalid_dept_id_list: [], forbidden_list: forbidden },
        request_id: randomBytes(6).toString('hex'),
      },
    };
  }
}
