// E-mail over SMTP (nodemailer). Each message carries both languages, the recipient's own first, so a
// family member abroad and a grid worker read the same mail.
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { errorText, type Channel, type DeliveryResult, type Notification } from './channel.ts';
import { alertMessage, inReadingOrder } from './message.ts';

export interface EmailOptions {
  /** SMTP server, e.g. { host, port, secure, auth: { user, pass } }. */
  smtp: SMTPTransport.Options;
  /** Sender, e.g. '"安居 Anju" <alerts@example.org>'. */
  from: string;
  /** Time zone for times in the message. */
  timeZone?: string;
  now?: () => number;
}

export function emailContent(n: Notification, timeZone?: string): { subject: string; text: string } {
  const [first, second] = inReadingOrder(alertMessage(n, timeZone), n.recipient.language);
  const block = (m: typeof first) => [m!.title, '', ...m!.lines].join('\n');
  return {
    subject: `${first!.title} / ${second!.title}`,
    text: `${block(first)}\n\n----------------------------------------\n\n${block(second)}\n`,
  };
}

export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly now: () => number;

  constructor(private readonly options: EmailOptions) {
    this.transport = nodemailer.createTransport(options.smtp);
    this.now = options.now ?? Date.now;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    const { subject, text } = emailContent(n, this.options.timeZone);
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to: n.recipient.address,
        subject,
        text,
        headers: { 'X-Anju-Alert-Id': n.alert.id },
      });
      const error = info.rejected.length > 0 ? `rejected by the server: ${info.response}` : null;
      return { attempts: [{ at: this.now(), ok: error === null, error }] };
    } catch (err) {
      return { attempts: [{ at: this.now(), ok: false, error: errorText(err) }] };
    }
  }

  close(): void {
    this.transport.close();
  }
}
