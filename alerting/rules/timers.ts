// Event-time timers: a binary min-heap of reusable Timer objects. Each rule owns its timers and moves
// them instead of allocating new ones, so a deadline pushed back on every reading costs a sift, not an
// allocation; rules that are re-armed constantly (inactivity, heartbeats) move a timer only when it fires.
export class Timer {
  due = Infinity;
  /** Position in the heap, -1 when not scheduled. */
  index = -1;

  constructor(readonly fire: (at: number) => void) {}

  get scheduled(): boolean {
    return this.index >= 0;
  }
}

export class TimerQueue {
  private readonly heap: Timer[] = [];

  get size(): number {
    return this.heap.length;
  }

  get nextDue(): number {
    return this.heap[0]?.due ?? Infinity;
  }

  /** Schedules or moves `timer`; a non-finite `due` cancels it. */
  schedule(timer: Timer, due: number): void {
    if (!Number.isFinite(due)) {
      this.cancel(timer);
      return;
    }
    if (timer.index < 0) {
      timer.due = due;
      timer.index = this.heap.length;
      this.heap.push(timer);
      this.up(timer.index);
      return;
    }
    const earlier = due < timer.due;
    timer.due = due;
    if (earlier) this.up(timer.index);
    else this.down(timer.index);
  }

  /** Schedules `timer` at `due` unless it is already due earlier. */
  scheduleNoLaterThan(timer: Timer, due: number): void {
    if (timer.index < 0 || due < timer.due) this.schedule(timer, due);
  }

  cancel(timer: Timer): void {
    const i = timer.index;
    if (i < 0) return;
    const last = this.heap.pop()!;
    timer.index = -1;
    timer.due = Infinity;
    if (last === timer) return;
    this.heap[i] = last;
    last.index = i;
    this.up(i);
    this.down(last.index);
  }

  /** Removes and returns the earliest timer if it is due at or before `now`. */
  popDue(now: number): Timer | undefined {
    const top = this.heap[0];
    if (!top || top.due > now) return undefined;
    const due = top.due;
    this.cancel(top);
    top.due = due;
    return top;
  }

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (parent.due <= t.due) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1]!.due < heap[c]!.due) c++;
      const child = heap[c]!;
      if (child.due >= t.due) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = t;
    t.index = i;
  }
}

/**
 * One resident's timers. The engine's queue holds one proxy timer per resident at the earliest due time
 * here, so that one resident's clock can be held back (a device draining a backlog) while every other
 * resident's timers still fire in order.
 */
export class SubjectTimers extends TimerQueue {
  readonly proxy: Timer;

  constructor(
    private readonly parent: TimerQueue,
    fire: (at: number) => void,
  ) {
    super();
    this.proxy = new Timer(fire);
  }

  override schedule(timer: Timer, due: number): void {
    super.schedule(timer, due);
    this.sync();
  }

  override cancel(timer: Timer): void {
    super.cancel(timer);
    this.sync();
  }

  /** Puts the proxy at this queue's earliest due time (or out of the engine's queue when empty). */
  sync(): void {
    const next = this.nextDue;
    if (this.proxy.scheduled && this.proxy.due === next) return;
    this.parent.schedule(this.proxy, next);
  }
}
