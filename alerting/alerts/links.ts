// One-tap links ("I'm on it" from a text message): each SMS, e-mail or robot message of an alert carries a
// link made for that message's recipient. The link's token is 128 random bits (22 base64url characters,
// short enough for an SMS); the database keeps only its SHA-256, with the alert, the person it was sent
// to and when it expires. A link lets its holder see that one alert and act on it as that person, nothing
// else: it is not a session and no other route accepts it.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from '../../database/sql.ts';

/** 16 random bytes in base64url: 22 characters of A-Z a-z 0-9 - _. */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{22}$/;
export const LINK_PATH = '/t/';
/** How long a link works unless the alert closes first. */
export const DEFAULT_LINK_TTL_MS = 24 * 3_600_000;

/** family: may say "I'm on it" (acknowledge); staff: may also resolve. */
export const LinkRole = z.enum(['family', 'staff']);
export type LinkRole = z.infer<typeof LinkRole>;

export const ActionLink = z.object({
  tokenHash: z.string(),
  alertId: z.string(),
  /** `contact:<id>` or `webhook:<id>`: who the link was sent to, and who acts through it. */
  recipient: z.string(),
  name: z.string(),
  role: LinkRole,
  language: z.enum(['zh-CN', 'en']),
  /** The channel that carried it (sms, email, webhook). */
  channel: z.string(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  /** When the link's holder acted through it (a family link is then used up). */
  usedAt: z.number().int().nullable(),
});
export type ActionLink = z.infer<typeof ActionLink>;

export type NewLink = Omit<ActionLink, 'tokenHash' | 'usedAt' | 'createdAt' | 'expiresAt'>;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const COLUMNS = `token_hash AS "tokenHash", alert_id AS "alertId", recipient, name, role, language, channel,
  created_at AS "createdAt", expires_at AS "expiresAt", used_at AS "usedAt"`;

export class ActionLinks {
  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = DEFAULT_LINK_TTL_MS,
  ) {}

  /** Makes a link for one recipient of one alert and returns its token (shown once, never stored). */
  async create(link: NewLink, now: number): Promise<string> {
    const token = randomBytes(16).toString('base64url');
    await this.sql.run(
      `INSERT INTO action_links (token_hash, alert_id, recipient, name, role, language, channel, created_at,
         expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        hashToken(token),
        link.alertId,
        link.recipient,
        link.name,
        link.role,
        link.language,
        link.channel,
        now,
        now + this.ttlMs,
      ],
    );
    return token;
  }

  /** The link a token stands for; undefined for a malformed or unknown (forged) token. */
  async find(token: string): Promise<ActionLink | undefined> {
    if (!LINK_TOKEN.test(token)) return undefined;
    return this.sql.one<ActionLink>(`SELECT ${COLUMNS} FROM action_links WHERE token_hash = ?`, [
      hashToken(token),
    ]);
  }

  /** Marks the link used; false when it already was (a second press, maybe in another process). */
  async markUsed(tokenHash: string, at: number): Promise<boolean> {
    const result = await this.sql.run(
      'UPDATE action_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL',
      [at, tokenHash],
    );
    return result.changes === 1;
  }

  /** Every link made for an alert, oldest first (no tokens: they are not kept). */
  forAlert(alertId: string): Promise<ActionLink[]> {
    return this.sql.all<ActionLink>(
      `SELECT ${COLUMNS} FROM action_links WHERE alert_id = ? ORDER BY created_at, token_hash`,
      [alertId],
    );
  }
}

/** The link's address as sent: `<base>/t/<token>`. */
export function linkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${LINK_PATH}${token}`;
}
