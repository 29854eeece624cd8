// Dashboard users in the registry file: who they are, their role, what they are assigned to see and how
// they want to be told. Passwords are kept only as scrypt hashes.
import type { Database } from 'better-sqlite3';
import { newId } from '../../registry/ids.ts';
import { hashPassword } from '../../firmware-protocol/credentials.ts';
import { AccountError, UserInput, type Preferences, type Role, type User } from './schemas.ts';

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

export class UserStore {
  private readonly stmt;

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.stmt = {
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byUsername: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
      all: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY role, username'),
      countAdmins: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'"),
      insert: db.prepare(
        `INSERT INTO users (id, username, display_name, role, password_hash, language, created_at)
         VALUES (:id, :username, :displayName, :role, :passwordHash, :language, :createdAt)`,
      ),
      setPassword: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
      setPreferences: db.prepare('UPDATE users SET channels = ?, language = ? WHERE id = ?'),
      setDisabled: db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?'),
      setTotp: db.prepare('UPDATE users SET totp_secret = ?, totp_last_step = NULL WHERE id = ?'),
      useTotpStep: db.prepare(
        'UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)',
      ),
      communities: db
        .prepare<[string], string>('SELECT community_id FROM user_communities WHERE user_id = ? ORDER BY 1')
        .pluck(),
      residents: db
        .prepare<[string], string>('SELECT resident_id FROM user_residents WHERE user_id = ? ORDER BY 1')
        .pluck(),
      addCommunity: db.prepare(
        'INSERT OR IGNORE INTO user_communities (user_id, community_id) VALUES (?, ?)',
      ),
      addResident: db.prepare('INSERT OR IGNORE INTO user_residents (user_id, resident_id) VALUES (?, ?)'),
      communityExists: db.prepare<[string], number>('SELECT 1 FROM communities WHERE id = ?').pluck(),
      residentExists: db.prepare<[string], number>('SELECT 1 FROM residents WHERE id = ?').pluck(),
    };
  }

  /** Creates a user; refuses a taken username and communities or residents the registry does not know. */
  async create(input: UserInput): Promise<User> {
    const user = UserInput.parse(input);
    const passwordHash = await hashPassword(user.password);
    const id = newId('us');
    this.db
      .transaction(() => {
        if (this.stmt.byUsername.get(user.username)) {
          throw new AccountError('duplicate_user', `the username ${user.username} is taken`);
        }
        for (const c of user.communities) {
          if (!this.stmt.communityExists.get(c))
            throw new AccountError('unknown_reference', `no community ${c}`);
        }
        for (const r of user.residents) {
          if (!this.stmt.residentExists.get(r))
            throw new AccountError('unknown_reference', `no resident ${r}`);
        }
        this.stmt.insert.run({ ...user, id, passwordHash, createdAt: this.now() });
        for (const c of user.communities) this.stmt.addCommunity.run(id, c);
        for (const r of user.residents) this.stmt.addResident.run(id, r);
      })
      .immediate();
    return this.get(id)!;
  }

  get(id: string): User | undefined {
    const row = this.stmt.byId.get(id);
    return row && this.toUser(row);
  }

  /** The user and their password hash, for signing in. */
  credentials(username: string): { user: User; passwordHash: string } | undefined {
    const row = this.stmt.byUsername.get(username.trim().toLowerCase());
    return row && { user: this.toUser(row), passwordHash: row.password_hash };
  }

  list(): User[] {
    return this.stmt.all.all().map((row) => this.toUser(row));
  }

  hasAdmin(): boolean {
    return this.stmt.countAdmins.get()!.n > 0;
  }

  async setPassword(id: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    if (this.stmt.setPassword.run(hash, id).changes === 0)
      throw new AccountError('not_found', `no user ${id}`);
  }

  /** The user's TOTP secret and last used step, when they turned the second factor on. */
  totpOf(username: string): { secret: string; lastStep: number } | undefined {
    const row = this.stmt.byUsername.get(username.trim().toLowerCase());
    if (!row?.totp_secret) return undefined;
    return { secret: row.totp_secret, lastStep: row.totp_last_step ?? -1 };
  }

  /** Turns the second factor on with `secret`, or off with null. */
  setTotp(id: string, secret: string | null): void {
    if (this.stmt.setTotp.run(secret, id).changes === 0) throw new AccountError('not_found', `no user ${id}`);
  }

  /** Records a used time step; false when it (or a later one) was used already, so a code works once. */
  useTotpStep(id: string, step: number): boolean {
    return this.stmt.useTotpStep.run(step, id, step).changes > 0;
  }

  /** Disables (at `at`) or enables (null) an account; a disabled user cannot sign in. */
  setDisabled(id: string, at: number | null): User {
    if (this.stmt.setDisabled.run(at, id).changes === 0) throw new AccountError('not_found', `no user ${id}`);
    return this.get(id)!;
  }

  setPreferences(id: string, prefs: Preferences): User {
    const channels = [...new Set(prefs.channels)];
    if (this.stmt.setPreferences.run(JSON.stringify(channels), prefs.language, id).changes === 0) {
      throw new AccountError('not_found', `no user ${id}`);
    }
    return this.get(id)!;
  }

  private toUser(row: UserRow): User {
    return {
      id: row.id,
      username: row.username,
      displayName: row.display_name,
      role: row.role,
      language: row.language,
      communities: row.role === 'staff' ? this.stmt.communities.all(row.id) : [],
      residents: row.role === 'family' ? this.stmt.residents.all(row.id) : [],
      channels: JSON.parse(row.channels) as User['channels'],
      createdAt: row.created_at,
      disabledAt: row.disabled_at,
      twoFactor: row.totp_secret !== null,
    };
  }
}
