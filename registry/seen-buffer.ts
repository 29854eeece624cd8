// Last-seen times arrive with every accepted message (thousands a second), far too often for one SQLite
// write each. They are kept here, latest per device, and written in one transaction per interval. Each
// device keeps one entry for the life of the process, updated in place: a fresh map per interval was
// garbage that lived long enough to reach V8's old generation, which with 10,000 devices shows in RSS.

interface Seen {
  at: number;
  written: boolean;
}

export class SeenBuffer {
  private readonly seen = new Map<string, Seen>();
  private unwritten = 0;

  record(id: string, at: number): void {
    const entry = this.seen.get(id);
    if (entry === undefined) {
      this.seen.set(id, { at, written: false });
      this.unwritten += 1;
    } else if (at > entry.at) {
      entry.at = at;
      if (entry.written) {
        entry.written = false;
        this.unwritten += 1;
      }
    }
  }

  /** The latest last-seen time this process has for one device, written or not. */
  peek(id: string): number | undefined {
    return this.seen.get(id)?.at;
  }

  /**
   * Hands every time not yet written to `write` (which must not call back into this buffer). Times that
   * arrive while it writes stay for the next drain; if it fails, the batch does too, and the error is
   * rethrown. One drain at a time (the registry serialises them).
   */
  async drain(write: (entries: [string, number][]) => Promise<void>): Promise<void> {
    if (this.unwritten === 0) return;
    const batch: [string, number][] = [];
    for (const [id, entry] of this.seen) {
      if (entry.written) continue;
      batch.push([id, entry.at]);
      entry.written = true;
    }
    this.unwritten = 0;
    try {
      await write(batch);
    } catch (err) {
      for (const [id] of batch) {
        const entry = this.seen.get(id)!;
        if (entry.written) {
          entry.written = false;
          this.unwritten += 1;
        }
      }
      throw err;
    }
  }
}
