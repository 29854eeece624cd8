// Slows password guessing: after `maxFailures` failed sign-ins within `windowMs`, from one address or for
// one username, further attempts are refused without checking the password until the oldest failure
// leaves the window. Counting per username stops a guesser that rotates addresses; per address stops one
// that rotates usernames. Kept in memory: a restart forgets, which costs a guesser one more window.
export interface LoginLimits {
  maxFailures: number;
  windowMs: number;
  /** Distinct addresses and usernames remembered; the oldest are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailures: 5, windowMs: 60_000, maxKeys: 100_000 };

export type LoginVerdict =
  | { allowed: true }
  /** `firstRefusal` is true once per blocked stretch, so the audit records a block without a flood. */
  | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

interface Failures {
  times: number[];
  refusalReported: boolean;
}

export class LoginLimiter {
  private readonly failures = new Map<string, Failures>();

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  check(address: string, username: string): LoginVerdict {
    let retryAfterMs = 0;
    let firstRefusal = false;
    for (const key of keysOf(address, username)) {
      const entry = this.recent(key);
      if (!entry || entry.times.length < this.limits.maxFailures) continue;
      retryAfterMs = Math.max(retryAfterMs, entry.times[0]! + this.limits.windowMs - this.now());
      if (!entry.refusalReported) firstRefusal = entry.refusalReported = true;
    }
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs, firstRefusal } : { allowed: true };
  }

  fail(address: string, username: string): void {
    for (const key of keysOf(address, username)) {
      const entry = this.recent(key) ?? { times: [], refusalReported: false };
      entry.times.push(this.now());
      if (entry.times.length > this.limits.maxFailures) entry.times.shift();
      this.failures.delete(key); // re-insert: the map's order is the order to forget in
      this.failures.set(key, entry);
    }
    while (this.failures.size > this.limits.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  /**
   * A correct password clears the username's failures, not the address's: one known account must not
   * let an address go on guessing others.
   */
  succeed(username: string): void {
    this.failures.delete(userKey(username));
  }

  private recent(key: string): Failures | undefined {
    const entry = this.failures.get(key);
    if (!entry) return undefined;
    const since = this.now() - this.limits.windowMs;
    while (entry.times.length > 0 && entry.times[0]! <= since) entry.times.shift();
    if (entry.times.length === 0) {
      this.failures.delete(key);
      return undefined;
    }
    if (entry.times.length < this.limits.maxFailures) entry.refusalReported = false;
    return entry;
  }
}

function userKey(username: string): string {
  return `user:${username.trim().toLowerCase()}`;
}

function keysOf(address: string, username: string): string[] {
  return [`addr:${address}`, userKey(username)];
}
