// Simulated time against the wall clock. A run starts at `start` and runs `speed` times faster than real
// time, but never ahead of the real clock: the gateway refuses timestamps more than 5 minutes ahead of its
// own, so an accelerated run against a live server starts in the past and, once it has caught up, goes on
// in real time.

export class SimClock {
  private readonly wallStart: number;

  constructor(
    private readonly start: number,
    /** 1 is real time; Infinity is as fast as the broker takes it. */
    private readonly speed: number,
    private readonly wallNow: () => number = Date.now,
  ) {
    if (!(speed > 0)) throw new Error('speed must be > 0');
    this.wallStart = wallNow();
  }

  now(): number {
    const wall = this.wallNow();
    if (this.speed === Infinity) return wall;
    return Math.min(this.start + (wall - this.wallStart) * this.speed, wall);
  }

  /** Wall-clock milliseconds until simulated time reaches `sim`. */
  delayUntil(sim: number): number {
    const wallAt = Math.max(this.wallStart + (sim - this.start) / this.speed, sim);
    return Math.max(0, wallAt - this.wallNow());
  }
}
