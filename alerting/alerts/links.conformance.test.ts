// One-tap links on both backends: escalation makes one link per message that reaches a person in words
// (SMS, e-mail, robot), none for the console or a voice call; only the token's hash is stored; a link is
// found by its token alone, expires, and is used once even when two presses race.
import { expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import type { Contact } from '../../registry/index.ts';
import { eachBackend } from '../../test/backends.ts';
import { templateParams } from '../channels/sms.ts';
import { emailContent } from '../channels/email.ts';
import { ActionLinks, hashToken, LINK_TOKEN } from './links.ts';
import { ALERTS_SCHEMA } from './migrations.ts';
import { parseEscalationPolicies } from './policy.ts';
import { AlertService } from './service.ts';
import {
  raise,
  RecordingChannel,
  residentDirectory,
  settableClock,
  T0,
  testContact,
} from './test-support.ts';

const HOUR = 3_600_000;

function contact(id: string, relation: Contact['relation'], channels: Contact['channels']): Contact {
  const name = id === 'ct_son' ? '李强' : '陈网格';
  return testContact({ id, name, relation, phone: '13800000001', email: `${id}@example.org`, channels });
}

const directory = residentDirectory(
  [contact('ct_son', 'family', ['app', 'sms', 'email']), contact('ct_grid', 'grid_worker', ['phone'])],
  '幸福里 / 3 / 301',
);

const policies = parseEscalationPolicies(`
  default:
    steps:
      - { afterMin: 0, notify: [console, family, grid_worker], webhooks: [duty] }
    renotifyEveryMin: null
    failover: false
`);

eachBackend('one-tap links', (backend) => {
  async function open() {
    const db = await backend.fresh();
    await migrate(db, [ALERTS_SCHEMA]);
    const clock = settableClock();
    const channels = Object.fromEntries(
      (['socketio', 'sms', 'email', 'voice', 'webhook'] as const).map((n) => [n, new RecordingChannel(n)]),
    );
    const service = await AlertService.open({
      db,
      clock,
      directory,
      policies,
      channels: Object.values(channels),
      links: { baseUrl: 'https://anju.example.cn/', ttlMs: 24 * HOUR },
    });
    return { db, service, clock, channels };
  }

  it('puts a link for its recipient in each SMS, e-mail and robot message, none for the console or a call', async () => {
    const { service, channels } = await open();
    const { alert } = (await service.apply(raise({ ruleId: 'event.sos', severity: 'critical' })))!;
    await service.advanceTo(T0);
    const [sms] = channels.sms!.sent;
    const [email] = channels.email!.sent;
    const [robot] = channels.webhook!.sent;
    for (const n of [sms, email, robot])
      expect(n?.link).toMatch(/^https:\/\/anju\.example\.cn\/t\/[\w-]{22}$/);
    expect(new Set([sms!.link, email!.link, robot!.link]).size).toBe(3);
    expect(channels.voice!.sent[0]?.link).toBeUndefined();
    expect(channels.socketio!.sent.every((n) => n.link === undefined)).toBe(true);

    const links = await service.links.forAlert(alert.id);
    expect(links.map((l) => [l.recipient, l.channel, l.role]).sort()).toEqual([
      ['contact:ct_son', 'email', 'family'],
      ['contact:ct_son', 'sms', 'family'],
      ['webhook:duty', 'webhook', 'family'],
    ]);
    // Only the hash is kept: the token itself is nowhere in the database.
    const token = sms!.link!.slice(sms!.link!.lastIndexOf('/') + 1);
    expect(links.map((l) => l.tokenHash)).toContain(hashToken(token));
    expect(JSON.stringify(links)).not.toContain(token);

    // What the person reads: the link in the e-mail, and in the SMS template's fourth variable.
    expect(emailContent(email!).text).toContain(`一键接手：${email!.link}`);
    expect(templateParams(sms!, 'url').link).toBe(sms!.link);
    expect(templateParams(sms!, 'token').link).toBe(token);
    expect(templateParams(sms!).link).toBeUndefined();
  });

  it('finds a link by its token only, with when it expires; a malformed or unknown token finds nothing', async () => {
    const { service } = await open();
    const { alert } = (await service.apply(raise()))!;
    const token = await service.links.create(
      {
        alertId: alert.id,
        recipient: 'contact:ct_grid',
        name: '陈网格',
        role: 'staff',
        language: 'zh-CN',
        channel: 'sms',
      },
      T0,
    );
    expect(token).toMatch(LINK_TOKEN);
    expect(await service.links.find(token)).toMatchObject({
      alertId: alert.id,
      recipient: 'contact:ct_grid',
      role: 'staff',
      createdAt: T0,
      expiresAt: T0 + 24 * HOUR,
      usedAt: null,
    });
    expect(await service.links.find(token.slice(0, 21) + (token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(await service.links.find(`${token}x`)).toBeUndefined();
    expect(await service.links.find("' OR 1=1 --")).toBeUndefined();
  });

  it('is used once, even by two presses at the same moment in two processes', async () => {
    const { service } = await open();
    const other = await backend.again();
    const { alert } = (await service.apply(raise()))!;
    const token = await service.links.create(
      {
        alertId: alert.id,
        recipient: 'contact:ct_son',
        name: '李强',
        role: 'family',
        language: 'zh-CN',
        channel: 'sms',
      },
      T0,
    );
    const { tokenHash } = (await service.links.find(token))!;
    const theirs = new ActionLinks(other);
    const wins = await Promise.all([
      service.links.markUsed(tokenHash, T0 + 1),
      theirs.markUsed(tokenHash, T0 + 2),
    ]);
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await theirs.find(token))?.usedAt).not.toBeNull();
  });
});
