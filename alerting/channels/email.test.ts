import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { registryDirectory } from '../alerts/directory.ts';
import { parseEscalationPolicies } from '../alerts/policy.ts';
import { AlertService } from '../alerts/service.ts';
import { raise, settableClock, T0 } from '../alerts/test-support.ts';
import { EmailChannel } from './email.ts';
import { openRegistry } from '../../cli/open-registry.ts';

const tempDir = useTempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Received {
  from: string;
  to: string[];
  mail: ParsedMail;
}

/** A real SMTP server on a free loopback port, keeping every message it accepts. */
async function smtpServer(options: { refuse?: string } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.refuse && address.address === options.refuse) return callback(new Error('no such mailbox'));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            mail,
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, received };
}

function emailChannel(port: number) {
  const channel = new EmailChannel({
    smtp: { host: '127.0.0.1', port, secure: false, ignoreTLS: true },
    from: '"安居 Anju" <alerts@anju.test>',
  });
  cleanups.push(() => channel.close());
  return channel;
}

const familyAtOnce = parseEscalationPolicies(
  'default: { steps: [{ afterMin: 0, notify: [family] }], renotifyEveryMin: 5 }',
);

/**
 * The alert service over a real registry holding 张桂英 (speaking `language`) and her daughter, who takes
 * e-mail, sent through the SMTP server on `smtpPort` as soon as an alert opens.
 */
async function mailingFamily(language: 'zh-CN' | 'en', smtpPort: number) {
  const dataDir = tempDir();
  const registry = await openRegistry(dataDir, { flushEveryMs: 0 });
  cleanups.push(() => registry.close());
  const resident = await registry.addResident({
    name: '张桂英',
    language,
    address: { community: '阳光社区', compound: '阳光苑', building: '3幢', home: '2-301' },
  });
  await registry.addContact({
    residentId: resident.id,
    name: '李娜',
    relation: 'family',
    email: 'li.na@example.org',
    channels: ['email'],
  });
  const service = await AlertService.open({
    dataDir,
    clock: settableClock(),
    directory: registryDirectory(registry),
    policies: familyAtOnce,
    channels: [emailChannel(smtpPort)],
  });
  cleanups.push(() => service.close());
  return { service, resident };
}

describe('e-mail channel', () => {
  it('delivers an escalation to the family by SMTP in Chinese and English', async () => {
    const smtp = await smtpServer();
    const { service, resident } = await mailingFamily('zh-CN', smtp.port);
    const { alert } = (await service.apply(raise({ residentId: resident.id, severity: 'critical' })))!;
    await service.advanceTo(T0);

    expect(smtp.received).toHaveLength(1);
    const [{ from, to, mail }] = smtp.received as [Received];
    expect(from).toBe('alerts@anju.test');
    expect(to).toEqual(['li.na@example.org']);
    expect(mail.subject).toBe(
      '【安居】危急：张桂英 燃气浓度超标 / [Anju] CRITICAL: 张桂英, Methane at 27 % LEL',
    );
    expect(mail.headers.get('x-anju-alert-id')).toBe(alert.id);
    const text = mail.text!;
    expect(text).toContain('住址：阳光社区 / 阳光苑 / 3幢 / 2-301');
    expect(text).toContain('发生时间：2025/01/15 10:00:00'); // 02:00 UTC is 10:00 in China
    expect(text).toContain('尚无人接手，请尽快确认并处理。');
    expect(text).toContain('Event: Methane at 27 % LEL (rule gas.methane)');
    expect(text).toContain('Nobody has taken this on yet: please acknowledge and act.');
    expect(text.indexOf('老人：')).toBeLessThan(text.indexOf('Resident:'));
    expect(await service.deliveries(alert.id)).toMatchObject([
      { channel: 'email', address: 'li.na@example.org', attempt: 1, ok: true, error: null },
    ]);

    await service.advanceTo(T0 + 5 * 60_000);
    expect(smtp.received[1]!.mail.subject).toMatch(/（第 1 次提醒） \/ .*\(reminder 1\)$/);
  });

  it('puts English first for a resident whose language is English', async () => {
    const smtp = await smtpServer();
    const { service, resident } = await mailingFamily('en', smtp.port);
    await service.apply(
      raise({
        residentId: resident.id,
        ruleId: 'event.sos',
        summary: 'SOS button pressed',
        autoClear: false,
      }),
    );
    await service.advanceTo(T0);
    const { mail } = smtp.received[0]!;
    expect(mail.subject).toBe(
      '[Anju] Alarm: 张桂英, SOS button pressed / 【安居】报警：张桂英 紧急呼叫（SOS）',
    );
    expect(mail.text!.indexOf('Resident:')).toBeLessThan(mail.text!.indexOf('老人：'));
  });

  it('records a refused recipient as a failed delivery with the server reason', async () => {
    const smtp = await smtpServer({ refuse: 'li.na@example.org' });
    const { service, resident } = await mailingFamily('zh-CN', smtp.port);
    const { alert } = (await service.apply(raise({ residentId: resident.id })))!;
    await service.advanceTo(T0);
    const [delivery] = await service.deliveries(alert.id);
    expect(delivery).toMatchObject({ channel: 'email', ok: false });
    expect(delivery!.error).toMatch(/no such mailbox/);
    expect(smtp.received).toHaveLength(0);
  });
});
