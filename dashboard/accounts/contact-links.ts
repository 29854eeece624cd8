// People, not records: which registry contact a dashboard account stands for. The link lives with the
// accounts (they hold the contact's id, as they hold resident ids); escalation asks it for the people
// behind a resident's contacts and tells each of them the way they chose, outside their quiet hours.
import { isForeignKeyViolation, isUniqueViolation, type Sql } from '../../database/sql.ts';
import { AccountError, QuietHours, type User } from './schemas.ts';

export interface ContactLink {
  userId: string;
  contactId: string;
  linkedAt: number;
}

/** What a linked person chose: their channels in their order, language and quiet hours. */
export interface PersonChoice {
  userId: string;
  contactId: string;
  displayName: string;
  channels: User['channels'];
  language: User['language'];
  quietHours: QuietHours | null;
  wecomUserId: string | null;
  dingtalkUserId: string | null;
  disabled: boolean;
}

interface ChoiceRow {
  user_id: string;
  contact_id: string;
  display_name: string;
  channels: string;
  language: User['language'];
  quiet_hours: string | null;
  wecom_user_id: string | null;
  dingtalk_user_id: string | null;
  disabled_at: number | null;
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export function parseQuietHours(text: string | null): QuietHours | null {
  if (text === null) return null;
  const parsed = QuietHours.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}

export class ContactLinks {
  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Links the account to the contact. Refused when either is unknown, the account already stands for
   * another contact, or another account for this one (unlink first).
   */
  async link(userId: string, contactId: string): Promise<ContactLink> {
    const linkedAt = this.now();
    try {
      await this.db.run('INSERT INTO user_contacts (user_id, contact_id, linked_at) VALUES (?, ?, ?)', [
        userId,
        contactId,
        linkedAt,
      ]);
    } catch (err) {
      if (isForeignKeyViolation(err))
        throw new AccountError('unknown_reference', `no user ${userId} or no contact ${contactId}`);
      if (isUniqueViolation(err))
        throw new AccountError(
          'duplicate_link',
          `user ${userId} or contact ${contactId} is already linked; unlink it first`,
        );
      throw err;
    }
    return { userId, contactId, linkedAt };
  }

  /** Removes the account's link; false when it had none. */
  async unlink(userId: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM user_contacts WHERE user_id = ?', [userId]);
    return changes > 0;
  }

  async ofUser(userId: string): Promise<ContactLink | undefined> {
    return this.db.one<ContactLink>(
      'SELECT user_id AS "userId", contact_id AS "contactId", linked_at AS "linkedAt" FROM user_contacts WHERE user_id = ?',
      [userId],
    );
  }

  /** Every link, by user id. */
  async list(): Promise<ContactLink[]> {
    const rows = await this.db.all<ContactLink>(
      'SELECT user_id AS "userId", contact_id AS "contactId", linked_at AS "linkedAt" FROM user_contacts',
    );
    return rows.sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }

  /** The people behind these contacts, with what each chose; contacts nobody stands for are left out. */
  async choices(contactIds: readonly string[]): Promise<Map<string, PersonChoice>> {
    const out = new Map<string, PersonChoice>();
    if (contactIds.length === 0) return out;
    const rows = await this.db.all<ChoiceRow>(
      `SELECT l.user_id, l.contact_id, u.display_name, u.channels, u.language, u.quiet_hours,
         u.wecom_user_id, u.dingtalk_user_id, u.disabled_at
       FROM user_contacts l JOIN users u ON u.id = l.user_id
       WHERE l.contact_id IN (${marks(contactIds.length)})`,
      [...contactIds],
    );
    for (const r of rows) {
      out.set(r.contact_id, {
        userId: r.user_id,
        contactId: r.contact_id,
        displayName: r.display_name,
        channels: JSON.parse(r.channels) as User['channels'],
        language: r.language,
        quietHours: parseQuietHours(r.quiet_hours),
        wecomUserId: r.wecom_user_id,
        dingtalkUserId: r.dingtalk_user_id,
        disabled: r.disabled_at !== null,
      });
    }
    return out;
  }
}
