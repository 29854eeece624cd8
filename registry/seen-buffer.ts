// Last-seen times arrive with every accepted message (thousands a second), far too often for one SQLite
// write each. They are kept here, latest per device, and written in one transaction per interval.

export class SeenBuffer {
  private pending = new Map<string, number>();

  record(id: string, at: number): void {
    const previous = this.pending.get(id);
    if (previous === undefined || at > previous) this.pending.set(id, at);
  }

  /** The last-seen time of one device not yet written, if any. */
  peek(id: string): number | undefined {
    return this.pending.get(id);
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Hands everything pending to `write`. If `write` throws, the entries are kept (merged with any that
   * arrived meanwhile) for the next attempt and the error is rethrown.
   */
  drain(write: (entries: Iterable<[string, number]>) => void): void {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      write(batch.entries());
    } catch (err) {
      for (const [id, at] of batch) this.record(id, at);
      throw err;
    }
  }
}
