// The WeCom and DingTalk clients against local servers that implement the documented APIs: the access
// token fetched once and reused, fetched anew when it expires or is refused, the documented message
// shapes carrying the one-tap link as a button, error codes sorted into retryable and final, and
// DingTalk's send result read back into delivered, not reached or not known yet.
import { afterEach, describe, expect, it } from 'vitest';
import { refusal } from './testing/refusal.ts';
import { DingtalkApp, dingtalkSendOutcome, SendResult } from './dingtalk.ts';
import { WecomApp } from './wecom.ts';
import { WorkAppServer, type WorkAppServerOptions } from './testing/work-app-server.ts';
import type { WorkMessage } from './work-app.ts';

const servers: WorkAppServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const SECRET = 'app-secret-never-shown';
const message: WorkMessage = {
  title: '【安居】危急：张桂英 紧急呼叫（SOS）',
  lines: ['老人：张桂英', '事件：紧急呼叫（SOS）（SOS pressed）', '尚无人接手，请尽快确认并处理。'],
  link: 'https://anju.example.cn/t/AAAAAAAAAAAAAAAAAAAAAA',
  button: '我来处理',
};

async function server(platform: WorkAppServerOptions['platform'], extra: Partial<WorkAppServerOptions> = {}) {
  const s = await new WorkAppServer({
    platform,
    appId: platform === 'wecom' ? 'ww0123456789abcdef' : 'dingabcdefghijklmn',
    secret: SECRET,
    agentId: 1000002,
    users: ['chenwang', 'lina'],
    ...extra,
  }).start();
  servers.push(s);
  return s;
}

const wecom = (s: WorkAppServer, extra: { secret?: string; now?: () => number } = {}) =>
  new WecomApp({
    endpoint: s.url,
    corpId: 'ww0123456789abcdef',
    corpSecret: extra.secret ?? SECRET,
    agentId: 1000002,
    ...(extra.now ? { now: extra.now } : {}),
  });

const dingtalk = (s: WorkAppServer, secret = SECRET) =>
  new DingtalkApp({ endpoint: s.url, appKey: 'dingabcdefghijklmn', appSecret: secret, agentId: 1000002 });

describe('WeCom application messages', () => {
  it('sends a textcard whose button is the one-tap link, fetching the token once for several sends', async () => {
    const s = await server('wecom');
    const app = wecom(s);
    const receipt = await app.send('chenwang', message);
    await app.send('lina', { ...message, link: null });
    expect(s.tokensIssued).toBe(1);
    expect(s.messages[0]).toEqual({
      userId: 'chenwang',
      body: {
        touser: 'chenwang',
        agentid: 1000002,
        msgtype: 'textcard',
        textcard: {
          title: message.title,
          description: message.lines.join('\n'),
          url: message.link,
          btntxt: '我来处理',
        },
      },
    });
    expect(receipt).toEqual({ provider: 'wecom', requestId: null, messageId: 'msg-1', status: '0' });
    // Without a link, a plain text.
    expect(s.messages[1]!.body).toMatchObject({
      msgtype: 'text',
      text: { content: expect.stringContaining('张桂英') },
    });
  });

  it('fetches a new token when the platform says it expired (42001), and sends once more', async () => {
    const s = await server('wecom');
    const app = wecom(s);
    await app.send('chenwang', message);
    s.expireTokens();
    await expect(app.send('chenwang', message)).resolves.toMatchObject({ status: '0' });
    expect(s.tokensIssued).toBe(2);
    expect(s.messages).toHaveLength(2);
  });

  it('fetches a new token before the old one runs out on its own clock', async () => {
    let t = Date.now();
    const s = await server('wecom', { now: () => t });
    const app = wecom(s, { now: () => t });
    await app.send('chenwang', message);
    t += 7200_000 - 4 * 60_000; // inside the last five minutes
    await app.send('chenwang', message);
    expect(s.tokensIssued).toBe(2);
  });

  it('sorts error codes: busy and rate limits retryable; unknown user, wrong app final', async () => {
    const s = await server('wecom');
    const app = wecom(s);
    s.fail({ userId: 'chenwang', code: '-1', times: 1, message: 'system busy' });
    s.fail({ userId: 'lina', code: '45009', times: 1, message: 'api freq out of limit' });
    expect((await refusal(app.send('chenwang', message))).retryable).toBe(true);
    const limited = await refusal(app.send('lina', message));
    expect(limited).toMatchObject({
      retryable: true,
      message: 'wecom message/send 45009: api freq out of limit',
    });
    expect(limited.receipt).toMatchObject({ provider: 'wecom', status: '45009' });
    s.fail({ userId: 'lina', code: '60111', times: 1, message: 'invalid userid' });
    expect((await refusal(app.send('lina', message))).retryable).toBe(false);
    const unknown = await refusal(app.send('nobody', message));
    expect(unknown).toMatchObject({ retryable: false, receipt: { status: '81013' } });
    const wrongAgent = new WecomApp({
      endpoint: s.url,
      corpId: 'ww0123456789abcdef',
      corpSecret: SECRET,
      agentId: 7,
    });
    expect(await refusal(wrongAgent.send('lina', message))).toMatchObject({
      retryable: false,
      receipt: { status: '40056' },
    });
  });

  it('refuses with a final error under a wrong secret, never showing the secret', async () => {
    const s = await server('wecom');
    const err = await refusal(wecom(s, { secret: 'a-wrong-secret' }).send('lina', message));
    expect(err).toMatchObject({ retryable: false, message: 'wecom gettoken 40001: invalid credential' });
    expect(JSON.stringify(err) + err.message + String(err.stack)).not.toContain('a-wrong-secret');
    expect(s.messages).toHaveLength(0);
  });

  it('treats an unreachable server as retryable, naming only the host', async () => {
    const s = await server('wecom');
    const url = s.url;
    await s.close();
    const err = await refusal(
      new WecomApp({ endpoint: url, corpId: 'ww1', corpSecret: SECRET, agentId: 1 }).send('lina', message),
    );
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^wecom 127\.0\.0\.1:\d+: /);
    expect(err.message).not.toContain(SECRET);
  });
});

describe('DingTalk work notifications', () => {
  it('sends an action card whose button is the one-tap link and keeps the task id', async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    const receipt = await app.send('chenwang', message);
    expect(s.messages[0]!.body).toEqual({
      agent_id: 1000002,
      userid_list: 'chenwang',
      msg: {
        msgtype: 'action_card',
        action_card: {
          title: message.title,
          markdown: expect.stringContaining('- 老人：张桂英'),
          single_title: '我来处理',
          single_url: message.link,
        },
      },
    });
    expect(receipt).toMatchObject({ provider: 'dingtalk', messageId: '256271667526', status: '0' });
    expect(receipt.requestId).toBeTruthy();
    await app.send('lina', { ...message, link: null });
    expect(s.messages[1]!.body).toMatchObject({ msg: { msgtype: 'markdown' } });
    expect(s.tokensIssued).toBe(1);
  });

  it('fetches a new token when the old one is refused as expired (42001), and sends once more', async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    await app.send('chenwang', message);
    s.expireTokens();
    await app.send('chenwang', message);
    expect(s.tokensIssued).toBe(2);
    expect(s.messages).toHaveLength(2);
  });

  it('sorts error codes: busy and frequency limits retryable; invalid user and no permission final', async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    s.fail({ userId: 'chenwang', code: '90018', times: 1, message: '调用频率超过限制' });
    expect(await refusal(app.send('chenwang', message))).toMatchObject({ retryable: true });
    s.fail({ userId: 'chenwang', code: '-1', times: 1, message: '系统繁忙' });
    expect(await refusal(app.send('chenwang', message))).toMatchObject({ retryable: true });
    s.fail({ userId: 'nobody', code: '33012', times: 1, message: '无效的USERID' });
    expect(await refusal(app.send('nobody', message))).toMatchObject({
      retryable: false,
      message: 'dingtalk asyncsend_v2 33012: 无效的USERID',
    });
    // 88 (鉴权异常): tried once more with a new token, then final.
    const wrongAgent = new DingtalkApp({
      endpoint: s.url,
      appKey: 'dingabcdefghijklmn',
      appSecret: SECRET,
      agentId: 7,
    });
    const before = s.tokensIssued;
    expect(await refusal(wrongAgent.send('lina', message))).toMatchObject({
      retryable: false,
      message: 'dingtalk asyncsend_v2 88: no permission 没有调用该接口的权限',
    });
    expect(s.tokensIssued - before).toBe(2);
  });

  it('refuses with a final error under a wrong secret, never showing it', async () => {
    const s = await server('dingtalk');
    const err = await refusal(dingtalk(s, 'a-wrong-secret').send('lina', message));
    expect(err).toMatchObject({ retryable: false, message: 'dingtalk gettoken 40089: invalid credential' });
    expect(err.message + JSON.stringify(err)).not.toContain('a-wrong-secret');
  });
});

describe('DingTalk send results', () => {
  it('reads where the task result names the person: read or unread delivered; invalid, forbidden, failed not', async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    const outcome = async (userId: string) => app.report(userId, await app.send(userId, message));

    expect(await outcome('chenwang')).toEqual({ state: 'delivered', code: 'unread_user_id_list' });
    s.placeInSendResult('lina', 'read_user_id_list');
    expect(await outcome('lina')).toEqual({ state: 'delivered', code: 'read_user_id_list' });
    expect(await outcome('left-the-org')).toEqual({
      state: 'failed',
      code: 'invalid_user_id_list',
      detail: 'user not reached: unknown user id, or not in the organisation',
    });
    s.placeInSendResult('lina', 'forbidden_user_id_list', { code: '143106', count: 1 });
    expect(await outcome('lina')).toEqual({
      state: 'failed',
      code: 'forbidden_user_id_list',
      detail: 'user not reached: held back by flow control (143106, limit 1)',
    });
    s.placeInSendResult('lina', 'failed_user_id_list');
    expect(await outcome('lina')).toMatchObject({ state: 'failed', code: 'failed_user_id_list' });
    s.placeInSendResult('lina', null);
    expect(await outcome('lina')).toEqual({ state: 'pending', code: null });
    expect(s.resultReads).toBe(6);
  });

  it('fetches a new token when it expired between the send and the result, and reads the result', async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    const receipt = await app.send('chenwang', message);
    s.expireTokens();
    expect(await app.report('chenwang', receipt)).toMatchObject({ state: 'delivered' });
    expect(s.tokensIssued).toBe(2);
    expect(s.resultReads).toBe(2); // refused with 42001, then answered
  });

  it("refuses with the result endpoint's own error, and asks about nothing without a task id", async () => {
    const s = await server('dingtalk');
    const app = dingtalk(s);
    const receipt = await app.send('chenwang', message);
    s.fail({ userId: 'chenwang', action: 'getsendresult', code: '-1', times: 1, message: '系统繁忙' });
    expect(await refusal(app.report('chenwang', receipt))).toMatchObject({
      retryable: true,
      message: 'dingtalk getsendresult -1: 系统繁忙',
    });
    expect(await refusal(app.report('chenwang', { ...receipt, messageId: '1' }))).toMatchObject({
      retryable: false,
      message: 'dingtalk getsendresult 40035: 不合法的参数',
    });
    expect(await app.report('chenwang', { ...receipt, messageId: null })).toEqual({
      state: 'pending',
      code: null,
    });
    expect(s.resultReads).toBe(2);
  });

  it('reads a comma-separated list as older SDKs show it, and ignores a malformed result', () => {
    expect(
      dingtalkSendOutcome(SendResult.parse({ invalid_user_id_list: 'lina,chenwang' }), 'chenwang'),
    ).toMatchObject({
      state: 'failed',
      code: 'invalid_user_id_list',
    });
    expect(dingtalkSendOutcome(SendResult.parse({ read_user_id_list: 7 }), 'chenwang')).toEqual({
      state: 'pending',
      code: null,
    });
    expect(dingtalkSendOutcome(SendResult.parse('not an object'), 'chenwang').state).toBe('pending');
  });
});
