// An aggregate rate limit for many concurrent senders: tokens accrue at `rate` per second up to a small
// burst, and waiters are served first come, first served by one timer (not one timer per waiter, which
// with thousands of devices would cost more than the sending).

export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly burst: number;

  constructor(private readonly rate: number) {
    if (!(rate > 0)) throw new Error('rate must be > 0');
    this.burst = Math.max(1, rate / 100); // 10 ms worth
    this.tokens = this.burst;
  }

  take(): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const waitMs = Math.max(1, ((1 - this.tokens) * 1000) / this.rate);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()!();
      }
      if (this.waiters.length > 0) this.schedule();
    }, waitMs);
  }
}
