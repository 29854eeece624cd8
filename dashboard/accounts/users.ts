// Dashboard users: who they are, their role, what they are assigned to see and how they want to be told.
// Passwords are kept only as scrypt hashes. The same queries run on SQLite and PostgreSQL.
import { isForeignKeyViolation, isUniqueViolation, type Sql } from '../../database/sql.ts';
import { newId } from '../../registry/ids.ts';
import { hashPassword } from '../../firmware-protocol/credentials.ts';
import {
  AccountError,
  UserInput,
  type Preferences,
  type QuietHours,
  type Role,
  type User,
  type WorkIds,
} from './schemas.ts';
import { parseQuietHours } from './contact-links.ts';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  password_hash: string;
  language: User['language'];
  channels: string;
  created_at: number;
  disabled_at: number | null;
  totp_secret: string | null;
  totp_last_step: number | null;
}

interface Assignments {
  communities: string[];
  residents: string[];
}

const NONE: Assignments = { communities: [], residents: [] };

/** Sorting happens in code throughout: the two backends' collations order punctuation differently. */
function byRoleAndName(a: User, b: User): number {
  if (a.role !== b.role) return a.role < b.role ? -1 : 1;
  return a.username < b.username ? -1 : a.username > b.username ? 1 : 0;
}

function toUser(row: UserRow, assigned: Assignments): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role,
    language: row.language,
    communities: row.role === 'staff' ? assigned.communities : [],
    residents: row.role === 'family' ? assigned.residents : [],
    channels: JSON.parse(row.channels) as User['channels'],
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    twoFactor: row.totp_secret !== null,
  };
}

export class UserStore {
  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates a user; refuses a taken username and communities or residents the registry does not know. */
  async create(input: UserInput): Promise<User> {
    const user = UserInput.parse(input);
    // scrypt before the transaction: a write lock is not held across a slow hash.
    const passwordHash = await hashPassword(user.password);
    const id = newId('us');
    const communities = [...new Set(user.communities)];
    const residents = [...new Set(user.residents)];
    try {
      await this.db.transaction(async (tx) => {
        if (await tx.one('SELECT 1 FROM users WHERE username = ?', [user.username]))
          throw duplicate(user.username);
        for (const c of communities)
          if (!(await tx.one('SELECT 1 FROM communities WHERE id = ?', [c])))
            throw new AccountError('unknown_reference', `no community ${c}`);
        for (const r of residents)
          if (!(await tx.one('SELECT 1 FROM residents WHERE id = ?', [r])))
            throw new AccountError('unknown_reference', `no resident ${r}`);
        await tx.run(
          `INSERT INTO users (id, username, display_name, role, password_hash, language, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [id, user.username, user.displayName, user.role, passwordHash, user.language, this.now()],
        );
        for (const c of communities)
          await tx.run('INSERT INTO user_communities (user_id, community_id) VALUES (?, ?)', [id, c]);
        for (const r of residents)
          await tx.run('INSERT INTO user_residents (user_id, resident_id) VALUES (?, ?)', [id, r]);
      });
    } catch (err) {
      // Another process took the name, or removed a community, between the checks and the insert.
      if (isUniqueViolation(err)) throw duplicate(user.username);
      if (isForeignKeyViolation(err))
        throw new AccountError('unknown_reference', 'a community or resident given no longer exists');
      throw err;
    }
    return (await this.get(id))!;
  }

  async get(id: string): Promise<User | undefined> {
    const row = await this.db.one<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row && toUser(row, await this.assignments(row));
  }

  /** The user and their password hash, for signing in. */
  async credentials(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.byUsername(username);
    return row && { user: toUser(row, await this.assignments(row)), passwordHash: row.password_hash };
  }

  /** Every user, admins first, then family, then staff, each by username. */
  async list(): Promise<User[]> {
    const rows = await this.db.all<UserRow>('SELECT * FROM users');
    const assigned = new Map<string, Assignments>();
    const of = (id: string) => {
      let a = assigned.get(id);
      if (!a) assigned.set(id, (a = { communities: [], residents: [] }));
      return a;
    };
    // Two queries for all assignments rather than two per user.
    for (const r of await this.db.all<{ user_id: string; community_id: string }>(
      'SELECT user_id, community_id FROM user_communities',
    ))
      of(r.user_id).communities.push(r.community_id);
    for (const r of await this.db.all<{ user_id: string; resident_id: string }>(
      'SELECT user_id, resident_id FROM user_residents',
    ))
      of(r.user_id).residents.push(r.resident_id);
    for (const a of assigned.values()) {
      a.communities.sort();
      a.residents.sort();
    }
    return rows.map((row) => toUser(row, assigned.get(row.id) ?? NONE)).sort(byRoleAndName);
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.db.one("SELECT 1 FROM users WHERE role = 'admin'")) !== undefined;
  }

  async setPassword(id: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    const { changes } = await this.db.run('UPDATE users SET password_hash = ? WHERE id = ?', [hash, id]);
    if (changes === 0) throw notFound(id);
  }

  /** The user's TOTP secret and last used step, when they turned the second factor on. */
  async totpOf(username: string): Promise<{ secret: string; lastStep: number } | undefined> {
    const row = await this.byUsername(username);
    if (!row?.totp_secret) return undefined;
    return { secret: row.totp_secret, lastStep: row.totp_last_step ?? -1 };
  }

  /** Turns the second factor on with `secret` (`usedStep`: the code that proved it, good no more), or off with null. */
  async setTotp(id: string, secret: string | null, usedStep: number | null = null): Promise<void> {
    const { changes } = await this.db.run(
      'UPDATE users SET totp_secret = ?, totp_last_step = ? WHERE id = ?',
      [secret, secret === null ? null : usedStep, id],
    );
    if (changes === 0) throw notFound(id);
  }

  /**
   * Records a used time step; false when it (or a later one) was used already, so a code works once. One
   * conditional UPDATE: two processes given the same code cannot both see it unused.
   */
  async useTotpStep(id: string, step: number): Promise<boolean> {
    const { changes } = await this.db.run(
      `UPDATE users SET totp_last_step = ?
       WHERE id = ? AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < ?)`,
      [step, id, step],
    );
    return changes > 0;
  }

  /** Disables (at `at`) or enables (null) an account; a disabled user cannot sign in. */
  async setDisabled(id: string, at: number | null): Promise<User> {
    const { changes } = await this.db.run('UPDATE users SET disabled_at = ? WHERE id = ?', [at, id]);
    if (changes === 0) throw notFound(id);
    return (await this.get(id))!;
  }

  /**
   * Sets how the person wants to be told. A work app chosen without a user id for it (given now or
   * before) is refused: no message could reach them there.
   */
  async setPreferences(id: string, prefs: Preferences): Promise<User> {
    const before = await this.workIds(id);
    if (!before) throw notFound(id);
    // Left out: unchanged; null: none.
    const ids: WorkIds = {
      wecomUserId: prefs.wecomUserId === undefined ? before.wecomUserId : prefs.wecomUserId,
      dingtalkUserId: prefs.dingtalkUserId === undefined ? before.dingtalkUserId : prefs.dingtalkUserId,
    };
    if (prefs.channels.includes('wecom') && !ids.wecomUserId)
      throw new AccountError('missing_work_id', 'the wecom channel needs your WeCom user id');
    if (prefs.channels.includes('dingtalk') && !ids.dingtalkUserId)
      throw new AccountError('missing_work_id', 'the dingtalk channel needs your DingTalk user id');
    const channels = JSON.stringify([...new Set(prefs.channels)]);
    const { changes } = await this.db.run(
      `UPDATE users SET channels = ?, language = ?, wecom_user_id = ?, dingtalk_user_id = ? WHERE id = ?`,
      [channels, prefs.language, ids.wecomUserId, ids.dingtalkUserId, id],
    );
    if (changes === 0) throw notFound(id);
    if (prefs.quietHours !== undefined) {
      const quiet = prefs.quietHours === null ? null : JSON.stringify(prefs.quietHours);
      await this.db.run('UPDATE users SET quiet_hours = ? WHERE id = ?', [quiet, id]);
    }
    return (await this.get(id))!;
  }

  /** The user's ids in WeCom and DingTalk; undefined for an unknown user. */
  async workIds(id: string): Promise<WorkIds | undefined> {
    return this.db.one<WorkIds>(
      'SELECT wecom_user_id AS "wecomUserId", dingtalk_user_id AS "dingtalkUserId" FROM users WHERE id = ?',
      [id],
    );
  }

  /** The user's quiet hours, or null. */
  async quietHours(id: string): Promise<QuietHours | null> {
    const row = await this.db.one<{ quiet_hours: string | null }>(
      'SELECT quiet_hours FROM users WHERE id = ?',
      [id],
    );
    return parseQuietHours(row?.quiet_hours ?? null);
  }

  private byUsername(username: string): Promise<UserRow | undefined> {
    return this.db.one<UserRow>('SELECT * FROM users WHERE username = ?', [username.trim().toLowerCase()]);
  }

  /** Only staff have communities and only family residents: other roles cost no query. */
  private async assignments(row: UserRow): Promise<Assignments> {
    if (row.role === 'staff') {
      const rows = await this.db.all<{ id: string }>(
        'SELECT community_id AS id FROM user_communities WHERE user_id = ?',
        [row.id],
      );
      return { communities: rows.map((r) => r.id).sort(), residents: [] };
    }
    if (row.role === 'family') {
      const rows = await this.db.all<{ id: string }>(
        'SELECT resident_id AS id FROM user_residents WHERE user_id = ?',
        [row.id],
      );
      return { communities: [], residents: rows.map((r) => r.id).sort() };
    }
    return NONE;
  }
}

function duplicate(username: string): AccountError {
  return new AccountError('duplicate_user', `the username ${username} is taken`);
}

function notFound(id: string): AccountError {
  return new AccountError('not_found', `no user ${id}`);
}
