import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { parseEscalationPolicies } from '../alerts/policy.ts';
import type { Alert, Recipient } from '../alerts/schemas.ts';
import { AlertService, openedAlert } from '../alerts/service.ts';
import { raise, residentDirectory, settableClock, T0 } from '../alerts/test-support.ts';
import type { Notification } from './channel.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature, WebhookChannel } from './webhook.ts';

const tempDir = useTempDirs();
const SECRET = 'a-webhook-secret-of-some-length';

interface Received {
  at: number;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of servers.splice(0)) await close();
});

/** A real HTTP receiver on a free loopback port; `answer` decides the response to each request. */
async function receiver(answer: (n: number, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        at: Date.now(),
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?key=k1`, received };
}

const reply =
  (status: number, body = '{}') =>
  (_n: number, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

const alert: Alert = { ...openedAlert(raise(), T0, 'al_0123456789abcdef', 'cm_a'), escalationStep: 0 };

function notification(address = 'ops'): Notification {
  const recipient: Recipient = {
    kind: 'webhook',
    id: address,
    name: address,
    channel: 'webhook',
    address,
    language: 'zh-CN',
  };
  return {
    alert,
    resident: { name: '张桂英', home: '阳光社区 / 3幢 / 2-301' },
    step: 0,
    round: 0,
    recipient,
    at: T0,
  };
}

describe('webhook channel', () => {
  it('posts JSON the receiver can verify with its secret', async () => {
    const hook = await receiver(reply(200));
    const channel = new WebhookChannel({ endpoints: [{ id: 'ops', url: hook.url, secret: SECRET }] });
    const result = await channel.send(notification());
    expect(result.attempts).toMatchObject([{ ok: true, error: null }]);

    const [req] = hook.received;
    expect(req!.headers['content-type']).toMatch(/^application\/json/);
    const expected = `sha256=${createHmac('sha256', SECRET).update(req!.body).digest('hex')}`;
    expect(req!.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(verifySignature(SECRET, req!.body, req!.headers[SIGNATURE_HEADER] as string)).toBe(true);
    expect(verifySignature('another-secret-entirely!', req!.body, expected)).toBe(false);
    expect(verifySignature(SECRET, req!.body.replace('27', '72'), expected)).toBe(false);
    const sentAt = Number(req!.headers[TIMESTAMP_HEADER]);
    expect(Math.abs(sentAt - Date.now())).toBeLessThan(5000);
    expect(JSON.parse(req!.body)).toMatchObject({
      type: 'alert.notify',
      sentAt,
      step: 0,
      alert: { id: alert.id },
    });
  });

  it('retries a failing receiver with growing waits until it answers', async () => {
    const hook = await receiver((n, res) => reply(n < 3 ? 503 : 200)(n, res));
    const channel = new WebhookChannel({
      endpoints: [{ id: 'ops', url: hook.url, secret: SECRET }],
      baseDelayMs: 40,
    });
    const result = await channel.send(notification());
    expect(result.attempts.map((a) => [a.ok, a.error])).toEqual([
      [false, 'HTTP 503'],
      [false, 'HTTP 503'],
      [true, null],
    ]);
    const [a, b, c] = hook.received.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(35);
    expect(c! - b!).toBeGreaterThanOrEqual(75);
    expect(new Set(hook.received.map((r) => r.body)).size).toBe(3); // each attempt signed afresh
  });

  it('gives up on a receiver that does not answer in time, and says so', async () => {
    const hook = await receiver(() => undefined); // never answers
    const channel = new WebhookChannel({
      endpoints: [{ id: 'ops', url: hook.url, secret: SECRET }],
      maxAttempts: 2,
      baseDelayMs: 10,
      timeoutMs: 100,
    });
    const result = await channel.send(notification());
    expect(result.attempts).toMatchObject([
      { ok: false, error: 'no answer within 100 ms' },
      { ok: false, error: 'no answer within 100 ms' },
    ]);
    expect(hook.received).toHaveLength(2);
  });

  it('does not retry a request the receiver refuses as wrong (4xx)', async () => {
    const hook = await receiver(reply(401));
    const channel = new WebhookChannel({
      endpoints: [{ id: 'ops', url: hook.url, secret: SECRET }],
      baseDelayMs: 10,
    });
    expect((await channel.send(notification())).attempts).toMatchObject([{ ok: false, error: 'HTTP 401' }]);
    expect(hook.received).toHaveLength(1);
  });

  it('records every failed attempt of an escalation step in the deliveries', async () => {
    const hook = await receiver(reply(500));
    const policies = parseEscalationPolicies(
      'default: { steps: [{ afterMin: 0, webhooks: [ops] }], renotifyEveryMin: null }',
    );
    const service = await AlertService.open({
      dataDir: tempDir(),
      clock: settableClock(),
      directory: residentDirectory([]),
      policies,
      channels: [
        new WebhookChannel({
          endpoints: [{ id: 'ops', url: hook.url, secret: SECRET }],
          maxAttempts: 3,
          baseDelayMs: 10,
        }),
      ],
    });
    const { alert: opened } = (await service.apply(raise()))!;
    await service.advanceTo(T0);
    expect(
      (await service.deliveries(opened.id)).map((d) => [d.channel, d.recipient, d.attempt, d.ok, d.error]),
    ).toEqual([
      ['webhook', 'webhook:ops', 1, false, 'HTTP 500'],
      ['webhook', 'webhook:ops', 2, false, 'HTTP 500'],
      ['webhook', 'webhook:ops', 3, false, 'HTTP 500'],
    ]);
    expect(hook.received).toHaveLength(3);
    await service.close();
  });

  it('formats DingTalk robot messages in both languages and signs the robot URL', async () => {
    const hook = await receiver(reply(200, '{"errcode":0,"errmsg":"ok"}'));
    const channel = new WebhookChannel({
      endpoints: [
        { id: 'grid', url: hook.url, secret: SECRET, format: 'dingtalk', dingtalkSecret: 'SECabc' },
      ],
    });
    expect((await channel.send(notification('grid'))).attempts).toMatchObject([{ ok: true }]);
    const [req] = hook.received;
    const body = JSON.parse(req!.body) as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('【安居】报警：张桂英 燃气浓度超标');
    expect(body.markdown.text).toContain('住址：阳光社区 / 3幢 / 2-301');
    expect(body.markdown.text).toContain('[Anju] Alarm: 张桂英, Methane at 27 % LEL');
    const url = new URL(req!.url, 'http://x');
    expect(url.searchParams.get('key')).toBe('k1');
    const timestamp = url.searchParams.get('timestamp')!;
    const sign = createHmac('sha256', 'SECabc').update(`${timestamp}\nSECabc`).digest('base64');
    expect(url.searchParams.get('sign')).toBe(sign);
    expect(verifySignature(SECRET, req!.body, req!.headers[SIGNATURE_HEADER] as string)).toBe(true);
  });

  it('formats WeCom robot messages, and counts a robot refusal as a failure', async () => {
    const hook = await receiver(reply(200, '{"errcode":93000,"errmsg":"invalid webhook url"}'));
    const channel = new WebhookChannel({
      endpoints: [{ id: 'wecom', url: hook.url, secret: SECRET, format: 'wecom' }],
      baseDelayMs: 10,
    });
    const result = await channel.send(notification('wecom'));
    expect(result.attempts).toMatchObject([
      { ok: false, error: 'robot refused the message: errcode 93000 invalid webhook url' },
    ]);
    const body = JSON.parse(hook.received[0]!.body) as { msgtype: string; markdown: { content: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toMatch(/^### 【安居】报警：张桂英 燃气浓度超标/);
    expect(body.markdown.content).toContain('Nobody has taken this on yet');
  });

  it('refuses a webhook id it was not configured with', async () => {
    const channel = new WebhookChannel({ endpoints: [] });
    expect((await channel.send(notification('nope'))).attempts).toMatchObject([
      { ok: false, error: 'no webhook "nope" is configured' },
    ]);
  });
});
