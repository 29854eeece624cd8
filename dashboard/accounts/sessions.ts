// Browser sessions. The cookie carries 256 random bits; the database keeps only their SHA-256, so a copy
// of the database opens no session. A session lives while it is used (idle timeout) and never longer
// than a hard limit. The CSRF token is derived from the session id with HMAC, so it needs no storage,
// and a page that cannot read the httpOnly cookie learns it only from the session endpoint.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../../database/sql.ts';
import { NO_REPORTER, type WriteReporter } from '../../ops/write-health.ts';

export interface SessionPolicy {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in however much it is used. */
  maxAgeMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 12 * 3_600_000, maxAgeMs: 7 * 24 * 3_600_000 };

// Writing last-use on every request would make each read a write; a minute's precision is plenty.
const TOUCH_EVERY_MS = 60_000;

export interface Session {
  /** SHA-256 of the cookie value, hex: how logs and sockets refer to a session without revealing it. */
  key: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  csrfToken: string;
}

/** A session as its owner sees it in their list: never the cookie, only its hash as the key. */
export interface SessionInfo {
  key: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  address: string;
  userAgent: string | null;
}

interface SessionRow {
  id_sha256: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  address: string;
  user_agent: string | null;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
// Keys per query when checking many sessions at once: well under either backend's parameter limit.
const LIVE_BATCH = 500;

export function sessionKey(cookieValue: string): string {
  return createHash('sha256').update(cookieValue).digest('hex');
}

function csrfTokenFor(cookieValue: string): string {
  return createHmac('sha256', cookieValue).update('anju-csrf-v1').digest('base64url');
}

export class SessionStore {
  private readonly endListeners = new Set<(key: string) => void>();

  constructor(
    private readonly db: Sql,
    private readonly now: () => number = Date.now,
    private readonly policy: SessionPolicy = DEFAULT_SESSION_POLICY,
    private readonly writes: WriteReporter = NO_REPORTER,
  ) {}

  /** Starts a session; the returned cookie value is the only copy of the session id. */
  async create(
    userId: string,
    meta: { address: string; userAgent?: string },
  ): Promise<{ cookie: string; session: Session }> {
    const cookie = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = Math.min(now + this.policy.idleMs, now + this.policy.maxAgeMs);
    const key = sessionKey(cookie);
    await this.db.run(
      `INSERT INTO sessions (id_sha256, user_id, created_at, last_used_at, expires_at, address, user_agent)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [key, userId, now, now, expiresAt, meta.address, meta.userAgent?.slice(0, 300) ?? null],
    );
    return { cookie, session: { key, userId, createdAt: now, expiresAt, csrfToken: csrfTokenFor(cookie) } };
  }

  /**
   * The live session for a cookie value, extending its idle timeout; undefined when unknown or ended
   * (here or by another process sharing the database).
   */
  async find(cookie: string): Promise<Session | undefined> {
    if (!COOKIE_VALUE.test(cookie)) return undefined;
    const key = sessionKey(cookie);
    const row = await this.db.one<SessionRow>('SELECT * FROM sessions WHERE id_sha256 = ?', [key]);
    if (!row) return undefined;
    const now = this.now();
    if (row.expires_at <= now) {
      await this.tolerating(() => this.end(key)); // ended either way; the purge deletes it later
      return undefined;
    }
    let expiresAt = row.expires_at;
    if (now - row.last_used_at >= TOUCH_EVERY_MS) {
      const extended = Math.min(now + this.policy.idleMs, row.created_at + this.policy.maxAgeMs);
      // A touch storage refuses only leaves the idle timeout where it was: the request goes on.
      const touch = () =>
        this.db.run('UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id_sha256 = ?', [
          now,
          extended,
          key,
        ]);
      if (await this.tolerating(touch)) expiresAt = extended;
    }
    return {
      key,
      userId: row.user_id,
      createdAt: row.created_at,
      expiresAt,
      csrfToken: csrfTokenFor(cookie),
    };
  }

  /** Runs a write that may be lost (a full disk): true when it was written, else reported and dropped. */
  private async tolerating(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      this.writes.succeeded();
      return true;
    } catch (err) {
      this.writes.failed(err);
      this.writes.dropped();
      return false;
    }
  }

  /** Ends a session (sign-out); listeners (open sockets of the session) are told. */
  async end(key: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE id_sha256 = ?', [key]);
    this.ended([key]);
  }

  /** Called with the session key whenever a session is ended here; returns the unsubscribe function. */
  onEnd(listener: (key: string) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** A user's live sessions, most recently used first: where and with what they are signed in. */
  async listOf(userId: string): Promise<SessionInfo[]> {
    const rows = await this.db.all<SessionRow>(
      'SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY last_used_at DESC',
      [userId, this.now()],
    );
    return rows.map((row) => ({
      key: row.id_sha256,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      expiresAt: row.expires_at,
      address: row.address,
      userAgent: row.user_agent,
    }));
  }

  /** Ends every session of a user but `keep` (a password changed, an account disabled); returns how many were live. */
  async endAllOf(userId: string, keep?: string): Promise<number> {
    // One DELETE, so a session another process starts meanwhile is either ended or not yet there.
    const rows = await this.db.all<{ id_sha256: string; expires_at: number }>(
      'DELETE FROM sessions WHERE user_id = ? AND id_sha256 <> ? RETURNING id_sha256, expires_at',
      [userId, keep ?? ''],
    );
    this.ended(rows.map((r) => r.id_sha256));
    const now = this.now();
    return rows.filter((r) => r.expires_at > now).length;
  }

  /** Which of `keys` are sessions still live, whichever process ended the others. */
  async live(keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const now = this.now();
    for (let i = 0; i < keys.length; i += LIVE_BATCH) {
      const batch = keys.slice(i, i + LIVE_BATCH);
      const rows = await this.db.all<{ id_sha256: string }>(
        `SELECT id_sha256 FROM sessions WHERE expires_at > ? AND id_sha256 IN (${batch.map(() => '?').join(', ')})`,
        [now, ...batch],
      );
      for (const row of rows) found.add(row.id_sha256);
    }
    return found;
  }

  /** Deletes expired sessions; returns how many. */
  async purgeExpired(): Promise<number> {
    return (await this.db.run('DELETE FROM sessions WHERE expires_at <= ?', [this.now()])).changes;
  }

  private ended(keys: readonly string[]): void {
    for (const key of keys) for (const listener of this.endListeners) listener(key);
  }
}

/** Constant-time comparison of a CSRF token sent by the page with the session's. */
export function csrfMatches(session: Session, sent: string | undefined): boolean {
  if (sent === undefined) return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
