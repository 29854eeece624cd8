// Slows password guessing without handing anyone a way to lock others out (OWASP: "slow down online
// guessing attacks with device cookies"). Three counts of failed sign-ins:
// - one address trying one account: `pairFailures` within `windowMs` block that pair until the oldest
//   failure leaves the window, whoever they are;
// - one account from anywhere: from `accountFailures` on, each further failure doubles a back-off (from
//   `backoffBaseMs` up to `backoffMaxMs`) that blocks untrusted browsers from trying that account;
// - one address trying any account: `addressFailures` within `addressWindowMs` block that address for
//   untrusted browsers.
// A trusted browser (one that carries a device token of this account, given at an earlier correct
// sign-in: device-tokens.ts) passes the account and address limits, so a guesser elsewhere, or a
// colleague's typos in a shared office, cannot keep a person on duty out. An admin clears an account.
// Kept in memory: a restart forgets, which costs a guesser one more window, and each Anju process sharing
// a database counts on its own, so N processes behind a balancer allow N times the guesses.
export interface LoginLimits {
  pairFailures: number;
  windowMs: number;
  accountFailures: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  addressFailures: number;
  addressWindowMs: number;
  /** Distinct keys remembered; the oldest are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  pairFailures: 5,
  windowMs: 60_000,
  accountFailures: 10,
  backoffBaseMs: 30_000,
  backoffMaxMs: 15 * 60_000,
  addressFailures: 100,
  addressWindowMs: 15 * 60_000,
  maxKeys: 20_000,
};

export type LoginVerdict =
  | { allowed: true }
  /** `firstRefusal` is true once per blocked stretch, so the audit records a block without a flood. */
  | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

interface Failures {
  times: number[];
  /** Failures counted towards the account's back-off (not trimmed by the window). */
  count: number;
  last: number;
  refusalReported: boolean;
}

export class LoginLimiter {
  private readonly failures = new Map<string, Failures>();

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `trusted`: the browser holds a device token of this account. */
  check(address: string, username: string, trusted = false): LoginVerdict {
    const waits = [
      this.windowWait(pairKey(address, username), this.limits.pairFailures, this.limits.windowMs),
    ];
    if (!trusted) {
      waits.push(this.backoffWait(userKey(username)));
      waits.push(
        this.windowWait(addressKey(address), this.limits.addressFailures, this.limits.addressWindowMs),
      );
    }
    let retryAfterMs = 0;
    let firstRefusal = false;
    for (const wait of waits) {
      if (!wait) continue;
      retryAfterMs = Math.max(retryAfterMs, wait.ms);
      if (!wait.entry.refusalReported) firstRefusal = wait.entry.refusalReported = true;
    }
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs, firstRefusal } : { allowed: true };
  }

  fail(address: string, username: string): void {
    const now = this.now();
    const keys: [string, number][] = [
      [pairKey(address, username), this.limits.pairFailures],
      [userKey(username), 0],
      [addressKey(address), this.limits.addressFailures],
    ];
    for (const [key, keep] of keys) {
      const entry = this.failures.get(key) ?? { times: [], count: 0, last: now, refusalReported: false };
      entry.times.push(now);
      if (entry.times.length > keep) entry.times.shift();
      entry.count++;
      entry.last = now;
      this.failures.delete(key); // re-insert: the map's order is the order to forget in
      this.failures.set(key, entry);
    }
    while (this.failures.size > this.limits.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  /**
   * A correct password clears the account's failures and this address's on it, not the address's on
   * others: one known account must not let an address go on guessing the rest.
   */
  succeed(address: string, username: string): void {
    this.failures.delete(userKey(username));
    this.failures.delete(pairKey(address, username));
  }

  /** An admin vouches for the account: its back-off and every address's failures on it are forgotten. */
  clear(username: string): void {
    const suffix = `|${normal(username)}`;
    for (const key of [...this.failures.keys()]) if (key.endsWith(suffix)) this.failures.delete(key);
    this.failures.delete(userKey(username));
  }

  /** Blocked until the oldest of `max` failures within `windowMs` leaves the window. */
  private windowWait(key: string, max: number, windowMs: number) {
    const entry = this.failures.get(key);
    if (!entry) return undefined;
    const since = this.now() - windowMs;
    const recent = entry.times.filter((t) => t > since);
    if (recent.length < max) {
      entry.refusalReported = false;
      if (recent.length === 0 && this.now() - entry.last > this.limits.backoffMaxMs)
        this.failures.delete(key);
      return undefined;
    }
    return { entry, ms: recent[recent.length - max]! + windowMs - this.now() };
  }

  /** Blocked for base * 2^(failures beyond the threshold) after the last failure, at most the maximum. */
  private backoffWait(key: string) {
    const entry = this.failures.get(key);
    if (!entry || entry.count < this.limits.accountFailures) return undefined;
    const steps = Math.min(30, entry.count - this.limits.accountFailures);
    const backoff = Math.min(this.limits.backoffMaxMs, this.limits.backoffBaseMs * 2 ** steps);
    const ms = entry.last + backoff - this.now();
    if (ms > 0) return { entry, ms };
    entry.refusalReported = false;
    // Quiet for the longest back-off: the account starts afresh.
    if (this.now() - entry.last > this.limits.backoffMaxMs) this.failures.delete(key);
    return undefined;
  }
}

function normal(username: string): string {
  return username.trim().toLowerCase();
}

function userKey(username: string): string {
  return `user:${normal(username)}`;
}

function addressKey(address: string): string {
  return `addr:${address}`;
}

function pairKey(address: string, username: string): string {
  return `pair:${address}|${normal(username)}`;
}
