// Every sign-in, failed sign-in, refused burst and sign-out, append-only: triggers refuse UPDATE and
// DELETE on both backends. Alert actions are audited by AlertService with the user id as actor.
import type { Sql } from '../../database/sql.ts';
import type { LoginAuditEntry, LoginOutcome } from './schemas.ts';

interface AuditRow {
  id: number;
  at: number;
  username: string;
  user_id: string | null;
  address: string;
  outcome: LoginOutcome;
  user_agent: string | null;
}

function toEntry(row: AuditRow): LoginAuditEntry {
  return {
    id: row.id,
    at: row.at,
    username: row.username,
    userId: row.user_id,
    address: row.address,
    outcome: row.outcome,
    userAgent: row.user_agent,
  };
}

export interface LoginAttempt {
  username: string;
  userId: string | null;
  address: string;
  userAgent?: string;
  outcome: LoginOutcome;
}

export class LoginAudit {
  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  async record(attempt: LoginAttempt): Promise<void> {
    await this.db.run(
      'INSERT INTO login_audit (at, username, user_id, address, outcome, user_agent) VALUES (?, ?, ?, ?, ?, ?)',
      [
        this.now(),
        // What someone typed as a username is kept, cut short: it may be a password typed in the wrong box.
        attempt.username.slice(0, 64),
        attempt.userId,
        attempt.address,
        attempt.outcome,
        attempt.userAgent?.slice(0, 300) ?? null,
      ],
    );
  }

  /** Newest first. */
  async recent(limit = 100): Promise<LoginAuditEntry[]> {
    const rows = await this.db.all<AuditRow>('SELECT * FROM login_audit ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map(toEntry);
  }
}
