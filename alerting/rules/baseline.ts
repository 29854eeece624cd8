// A personal baseline: running mean and variance, exact (Welford) for the first `window` readings and
// exponentially weighted after that, so the baseline follows slow change without storing readings.
export interface BaselineState {
  n: number;
  mean: number;
  variance: number;
}

export class Baseline {
  private n = 0;
  private mean = 0;
  private variance = 0;

  get count(): number {
    return this.n;
  }

  /**
   * Adds a reading. Once `minCount` readings exist, one outside mean +- sds sd counts as if on that edge,
   * so an illness does not teach the baseline that it is normal, while a lasting change still moves it.
   */
  add(x: number, window: number, sds: number, minCount: number): void {
    if (this.n >= minCount) {
      const spread = sds * Math.sqrt(this.variance);
      x = Math.min(this.mean + spread, Math.max(this.mean - spread, x));
    }
    this.n = Math.min(this.n + 1, window);
    const a = 1 / this.n;
    const d = x - this.mean;
    this.mean += a * d;
    // With a = 1/n this is Welford's population variance; with a fixed a it is the EW variance.
    this.variance = (1 - a) * (this.variance + a * d * d);
  }

  /** mean + sds * sd once `minCount` readings exist, NaN before. */
  bound(sds: number, minCount: number): number {
    return this.n >= minCount ? this.mean + sds * Math.sqrt(this.variance) : NaN;
  }

  toJSON(): BaselineState {
    return { n: this.n, mean: this.mean, variance: this.variance };
  }

  restore(s: BaselineState): void {
    this.n = s.n;
    this.mean = s.mean;
    this.variance = s.variance;
  }
}
