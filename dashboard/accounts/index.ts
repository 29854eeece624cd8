// Dashboard accounts: users, browser sessions, the sign-in rate limit and the login audit, all in the
// registry's SQLite file. signIn() is the one place a password is checked.
import type { WriteReporter } from '../../ops/write-health.ts';
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { hashPassword, verifySecret } from '../../registry/secrets.ts';
import { LoginAudit } from './login-audit.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { DEFAULT_SESSION_POLICY, SessionStore, type Session, type SessionPolicy } from './sessions.ts';
import type { User } from './schemas.ts';
import { UserStore } from './users.ts';

export { ensureDemoUsers, ensureFirstAdmin, type DemoLogin } from './first-users.ts';
export { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './login-limiter.ts';
export { csrfMatches, DEFAULT_SESSION_POLICY, type Session, type SessionPolicy } from './sessions.ts';
export { Scopes, type Principal, type Scope } from './scope.ts';
export * from './schemas.ts';

export interface AccountsOptions {
  now?: () => number;
  sessions?: SessionPolicy;
  loginLimits?: LoginLimits;
  /** Told of session writes storage refused (a full disk); those are dropped, the request goes on. */
  sessionWrites?: WriteReporter;
}

export interface SignInRequest {
  username: string;
  password: string;
  address: string;
  userAgent?: string;
}

export type SignInResult =
  | { ok: true; user: User; cookie: string; session: Session }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'rate_limited'; retryAfterMs: number };

export class Accounts {
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly audit: LoginAudit;
  private readonly limiter: LoginLimiter;
  private decoyHash: Promise<string> | undefined;

  constructor(db: Database, options: AccountsOptions = {}) {
    const now = options.now ?? Date.now;
    this.users = new UserStore(db, now);
    this.sessions = new SessionStore(
      db,
      now,
      options.sessions ?? DEFAULT_SESSION_POLICY,
      options.sessionWrites,
    );
    this.audit = new LoginAudit(db, now);
    this.limiter = new LoginLimiter(options.loginLimits ?? DEFAULT_LOGIN_LIMITS, now);
  }

  /** Checks a password, within the rate limit, audits the attempt and starts a session when it is right. */
  async signIn(req: SignInRequest): Promise<SignInResult> {
    const meta = { address: req.address, userAgent: req.userAgent };
    const verdict = this.limiter.check(req.address, req.username);
    if (!verdict.allowed) {
      if (verdict.firstRefusal)
        this.audit.record({ ...meta, username: req.username, userId: null, outcome: 'rate_limited' });
      return { ok: false, reason: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
    }
    const found = this.users.credentials(req.username);
    // An unknown username costs the same scrypt as a known one, so timing does not tell which exist.
    const ok = await verifySecret(req.password, found?.passwordHash ?? (await this.decoy()));
    if (!found || !ok) {
      this.limiter.fail(req.address, req.username);
      this.audit.record({
        ...meta,
        username: req.username,
        userId: found?.user.id ?? null,
        outcome: 'failed',
      });
      return { ok: false, reason: 'bad_credentials' };
    }
    this.limiter.succeed(req.username);
    this.audit.record({ ...meta, username: found.user.username, userId: found.user.id, outcome: 'ok' });
    return { ok: true, user: found.user, ...this.sessions.create(found.user.id, meta) };
  }

  signOut(session: Session, meta: { address: string; userAgent?: string }): void {
    const user = this.users.get(session.userId);
    this.sessions.end(session.key);
    this.audit.record({ ...meta, username: user?.username ?? '', userId: session.userId, outcome: 'logout' });
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= hashPassword(randomBytes(16).toString('base64url'));
    return this.decoyHash;
  }
}
