// Counts requests per key in fixed windows and refuses past a limit: the one-tap link page's rate limits,
// per link and per client address. Kept in memory; each Anju process counts on its own, and a restart
// forgets, which costs a guesser little against 128-bit tokens.
export interface BudgetLimits {
  /** Requests a key may make per window. */
  limit: number;
  windowMs: number;
  /** Keys remembered; the oldest are forgotten first. */
  maxKeys?: number;
}

export type BudgetVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export class Budget {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limits: BudgetLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request of `key`; refused once the key has used its window's limit. */
  take(key: string): BudgetVerdict {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      this.windows.delete(key); // re-inserted last: the Map's order is then oldest first
      w = { count: 0, resetAt: now + this.limits.windowMs };
      this.windows.set(key, w);
      this.forgetOldest();
    }
    if (w.count >= this.limits.limit) return { ok: false, retryAfterMs: w.resetAt - now };
    w.count += 1;
    return { ok: true };
  }

  private forgetOldest(): void {
    const max = this.limits.maxKeys ?? 20_000;
    for (const key of this.windows.keys()) {
      if (this.windows.size <= max) break;
      this.windows.delete(key);
    }
  }
}
