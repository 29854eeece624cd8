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
   * Hands every time not yet written to `write` (which must not call back into this buffer). If `write`
   * throws, they stay unwritten for the next attempt and the error is rethrown.
   */
  drain(write: (entries: Iterable<[string, number]>) => void): void {
    if (this.unwritten === 0) return;
    write(this.pending());
    for (const entry of this.seen.values()) entry.written = true;
    this.unwritten = 0;
  }

  private *pending(): Generator<[string, number]> {
    for (const [id, entry] of this.seen) if (!entry.written) yield [id, entry.at];
  }
}
