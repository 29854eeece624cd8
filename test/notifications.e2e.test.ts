// An operator's notifications file in a running Anju: an SOS escalates to the resident's family by
// e-mail through a real SMTP server, and a bad file is refused with a clear error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNotifications } from '../alerting/notifications.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from './harness.ts';

const received: { to: string[]; mail: ParsedMail }[] = [];
let smtp: SMTPServer;
let smtpPort: number;
let dir: string;
let anju: TestAnju;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), mail });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  smtpPort = (smtp.server.address() as { port: number }).port;
  dir = mkdtempSync(path.join(tmpdir(), 'anju-notify-'));
  const file = path.join(dir, 'notifications.yaml');
  writeFileSync(
    file,
    [
      'smtp:',
      `  url: smtp://127.0.0.1:${smtpPort}`,
      `  from: '"安居 Anju" <alerts@anju.test>'`,
      'escalation:',
      '  default:',
      '    steps:',
      '      - { afterMin: 0, notify: [console, family] }',
      '    renotifyEveryMin: null',
    ].join('\n'),
  );
  anju = await startTestAnju({ notificationsFile: file });
});
afterAll(async () => {
  await anju.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('notifications', () => {
  it('e-mails the family of a resident who pressed SOS, and records the delivery', async () => {
    const resident = await anju.registry.addResident({
      name: '李桂兰',
      livesAlone: true,
      address: { community: 'Notify', compound: 'A', building: '3', home: '502' },
    });
    await anju.registry.addContact({
      residentId: resident.id,
      name: 'Li Wei',
      relation: 'family',
      email: 'li.wei@family.test',
      channels: ['email'],
    });
    const { secret } = await anju.registry.addDevice({
      id: 'notify-wb-1',
      kind: 'wearable',
      residentId: resident.id,
    });
    const client = await connectDevice(anju, { id: 'notify-wb-1', secret });
    await client.publishAsync(
      topicFor('notify-wb-1', 'event'),
      JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
      {
        qos: 1,
      },
    );
    await client.endAsync();

    const mail = await waitFor(() => received.find((m) => m.to.includes('li.wei@family.test')), 10_000, 50);
    expect(mail.mail.subject).toMatch(/李桂兰|SOS/);
    expect(mail.mail.text).toContain('李桂兰');
    const [alert] = await anju.alerting.alerts.list({ residentIds: [resident.id] });
    // The server has the mail before Anju has the server's answer: the delivery is recorded just after.
    const deliveries = await waitFor(async () => {
      const all = await anju.alerting.alerts.deliveries(alert!.id);
      return all.some((d) => d.channel === 'email') ? all : undefined;
    }, 10_000);
    expect(deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'email', ok: true, address: 'li.wei@family.test' }),
      ]),
    );
  });

  it('refuses a notifications file with a clear error naming the bad field', () => {
    expect(() => parseNotifications('smtp: { url: http://x, from: a@b.c }', 'n.yaml')).toThrow(
      /n\.yaml: smtp\.url/,
    );
    expect(() =>
      parseNotifications('webhooks: [{ id: a, url: https://x.test, secret: short }]', 'n.yaml'),
    ).toThrow(/webhooks\.0\.secret/);
    expect(() => parseNotifications('escalation: { default: { steps: [] } }', 'n.yaml')).toThrow(/steps/);
  });
});
