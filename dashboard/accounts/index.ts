// Dashboard accounts: users, browser sessions, the sign-in rate limit and the login audit, in the
// registry's database (SQLite or PostgreSQL). signIn() is the one place a password is checked.
import type { Sql } from '../../database/sql.ts';
import type { WriteReporter } from '../../ops/write-health.ts';
import { randomBytes } from 'node:crypto';
import { hashPassword, verifySecret } from '../../firmware-protocol/credentials.ts';
import { DeviceTokens } from './device-tokens.ts';
import { LoginAudit } from './login-audit.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { DEFAULT_SESSION_POLICY, SessionStore, type Session, type SessionPolicy } from './sessions.ts';
import { passwordProblem } from './password-policy.ts';
import { matchTotp, newTotpSecret, otpauthUri } from './totp.ts';
import { AccountError, type User } from './schemas.ts';
import { sharedKey } from './shared-keys.ts';
import { UserStore } from './users.ts';
import { ContactLinks } from './contact-links.ts';

const DEVICE_TOKEN_KEY = 'device_tokens';

export { ACCOUNTS_SCHEMA } from './migrations.ts';
export { ensureDemoUsers, ensureFirstAdmin, type DemoLogin } from './first-users.ts';
export { DEVICE_COOKIE, DEVICE_TOKEN_TTL_MS } from './device-tokens.ts';
export { DEFAULT_LOGIN_LIMITS, type LoginLimits } from './login-limiter.ts';
export { csrfMatches, DEFAULT_SESSION_POLICY, type Session, type SessionPolicy } from './sessions.ts';
export { Scopes, type Principal, type Scope } from './scope.ts';
export * from './schemas.ts';
export { ContactLinks, type ContactLink, type PersonChoice } from './contact-links.ts';

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
  /** The browser's device token, from an earlier correct sign-in (device-tokens.ts). */
  deviceToken?: string;
  /** A code from the authenticator app, for an account with the second factor on. */
  code?: string;
}

export interface PasswordChangeRequest {
  user: User;
  currentPassword: string;
  newPassword: string;
  address: string;
  /** The session the change is made from: it stays; every other session of the user ends. */
  sessionKey?: string;
}

export type PasswordChangeResult =
  | { ok: true; endedSessions: number }
  | {
      ok: false;
      reason: 'wrong_current' | 'rate_limited' | 'unchanged' | 'weak';
      detail: string;
      retryAfterMs?: number;
    };

export type SignInResult =
  | { ok: true; user: User; cookie: string; session: Session; deviceToken: string }
  | { ok: false; reason: 'bad_credentials' }
  /** The password was right; the account also wants a code (missing, or wrong or used). */
  | { ok: false; reason: 'code_required' | 'bad_code' }
  | { ok: false; reason: 'rate_limited'; retryAfterMs: number };

export class Accounts {
  readonly users: UserStore;
  /** Which registry contact each account stands for (people, not records). */
  readonly contactLinks: ContactLinks;
  readonly sessions: SessionStore;
  readonly audit: LoginAudit;
  private readonly limiter: LoginLimiter;
  private deviceTokens: Promise<DeviceTokens> | undefined;
  private readonly now: () => number;
  private decoyHash: Promise<string> | undefined;

  /** `db`: the registry's database, where the accounts' tables are (ACCOUNTS_SCHEMA, migrated). */
  constructor(
    private readonly db: Sql,
    options: AccountsOptions = {},
  ) {
    const now = options.now ?? Date.now;
    this.now = now;
    this.users = new UserStore(db, now);
    this.contactLinks = new ContactLinks(db, now);
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
    // A right second-factor code vouches for the browser like a device token does.
    const totp = await this.users.totpOf(req.username);
    const codeStep =
      totp && req.code !== undefined
        ? matchTotp(totp.secret, req.code, this.now(), totp.lastStep)
        : undefined;
    const devices = await this.devices();
    const trusted = devices.trusted(req.deviceToken, req.username) || codeStep !== undefined;
    const verdict = this.limiter.check(req.address, req.username, trusted);
    if (!verdict.allowed) {
      if (verdict.firstRefusal)
        await this.audit.record({ ...meta, username: req.username, userId: null, outcome: 'rate_limited' });
      return { ok: false, reason: 'rate_limited', retryAfterMs: verdict.retryAfterMs };
    }
    const found = await this.users.credentials(req.username);
    // An unknown username costs the same scrypt as a known one, so timing does not tell which exist.
    const ok = await verifySecret(req.password, found?.passwordHash ?? (await this.decoy()));
    // A disabled account answers like a wrong password: the answer tells a guesser nothing.
    if (!found || !ok || found.user.disabledAt !== null) {
      this.limiter.fail(req.address, req.username);
      await this.audit.record({
        ...meta,
        username: req.username,
        userId: found?.user.id ?? null,
        outcome: 'failed',
      });
      return { ok: false, reason: 'bad_credentials' };
    }
    if (totp) {
      if (req.code === undefined) return { ok: false, reason: 'code_required' };
      // The conditional UPDATE is what makes a code single-use, also against another process.
      if (codeStep === undefined || !(await this.users.useTotpStep(found.user.id, codeStep))) {
        this.limiter.fail(req.address, req.username);
        await this.audit.record({
          ...meta,
          username: req.username,
          userId: found.user.id,
          outcome: 'failed',
        });
        return { ok: false, reason: 'bad_code' };
      }
    }
    this.limiter.succeed(req.address, req.username);
    await this.audit.record({ ...meta, username: found.user.username, userId: found.user.id, outcome: 'ok' });
    const deviceToken = devices.issue(found.user.username);
    return { ok: true, user: found.user, deviceToken, ...(await this.sessions.create(found.user.id, meta)) };
  }

  /**
   * Changes a user's own password: the current one is checked within the sign-in limits (guessing it from
   * a stolen session is guessing all the same), the new one must pass the policy and differ, and every
   * other session of the user ends, in case the old password was what someone else used.
   */
  async changePassword(req: PasswordChangeRequest): Promise<PasswordChangeResult> {
    const { user } = req;
    const own = await this.verifyOwnPassword(user, req.currentPassword, req.address);
    if (!own.ok) return own;
    const stored = await this.users.credentials(user.username);
    if (!stored) throw new AccountError('not_found', `no user ${user.username}`);
    if (await verifySecret(req.newPassword, stored.passwordHash))
      return { ok: false, reason: 'unchanged', detail: 'choose a password other than the current one' };
    const problem = passwordProblem(req.newPassword, user.username);
    if (problem) return { ok: false, reason: 'weak', detail: `newPassword: ${problem}` };
    await this.users.setPassword(user.id, req.newPassword);
    return { ok: true, endedSessions: await this.sessions.endAllOf(user.id, req.sessionKey) };
  }

  /**
   * A signed-in person proving it is them with their password (to change it, or their second factor):
   * wrong passwords count as failed sign-ins, since guessing it from a stolen session is guessing all the same.
   */
  async verifyOwnPassword(
    user: User,
    password: string,
    address: string,
  ): Promise<
    | { ok: true }
    | { ok: false; reason: 'wrong_current' | 'rate_limited'; detail: string; retryAfterMs?: number }
  > {
    const verdict = this.limiter.check(address, user.username, true);
    if (!verdict.allowed)
      return {
        ok: false,
        reason: 'rate_limited',
        detail: 'too many wrong passwords',
        retryAfterMs: verdict.retryAfterMs,
      };
    const stored = await this.users.credentials(user.username);
    if (!stored || !(await verifySecret(password, stored.passwordHash))) {
      this.limiter.fail(address, user.username);
      return { ok: false, reason: 'wrong_current', detail: 'the current password is wrong' };
    }
    return { ok: true };
  }

  /** A new secret for a user to put in their authenticator app; nothing changes until they confirm. */
  totpSetup(user: User): { secret: string; uri: string } {
    const secret = newTotpSecret();
    return { secret, uri: otpauthUri(secret, user.username) };
  }

  /** Turns the second factor on once a code shows the app holds the secret (the route checked the password). */
  async totpEnable(user: User, secret: string, code: string): Promise<string | undefined> {
    let step: number | undefined;
    try {
      step = matchTotp(secret, code, this.now());
    } catch {
      return 'the secret is not base32';
    }
    if (step === undefined) return 'the code does not match the secret: check the clock of the phone';
    await this.users.setTotp(user.id, secret, step);
    return undefined;
  }

  /** Turns the second factor off: by the user with their password, or by an admin (a lost phone). */
  async totpDisable(userId: string): Promise<void> {
    await this.users.setTotp(userId, null);
  }

  /** An admin disables an account: it cannot sign in, and every session of it ends now. */
  async disable(userId: string): Promise<User> {
    const user = await this.users.setDisabled(userId, this.now());
    await this.sessions.endAllOf(userId);
    return user;
  }

  enable(userId: string): Promise<User> {
    return this.users.setDisabled(userId, null);
  }

  /** An admin sets a new password (a forgotten one): the policy applies, every session of the user ends. */
  async resetPassword(userId: string, password: string): Promise<string | undefined> {
    const user = await this.users.get(userId);
    if (!user) throw new AccountError('not_found', `no user ${userId}`);
    const problem = passwordProblem(password, user.username);
    if (problem) return `password: ${problem}`;
    await this.users.setPassword(userId, password);
    await this.sessions.endAllOf(userId);
    this.limiter.clear(user.username);
    return undefined;
  }

  /** An admin vouches for an account: failed sign-ins in its name stop holding it back. */
  clearSignInFailures(username: string): void {
    this.limiter.clear(username);
  }

  async signOut(session: Session, meta: { address: string; userAgent?: string }): Promise<void> {
    const user = await this.users.get(session.userId);
    await this.sessions.end(session.key);
    await this.audit.record({
      ...meta,
      username: user?.username ?? '',
      userId: session.userId,
      outcome: 'logout',
    });
  }

  /** The device tokens, signed with the key every process sharing the database uses. */
  private devices(): Promise<DeviceTokens> {
    this.deviceTokens ??= sharedKey(this.db, DEVICE_TOKEN_KEY).then(
      (key) => new DeviceTokens(key, this.now),
      (err: unknown) => {
        this.deviceTokens = undefined; // asked again at the next sign-in
        throw err;
      },
    );
    return this.deviceTokens;
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= hashPassword(randomBytes(16).toString('base64url'));
    return this.decoyHash;
  }
}
