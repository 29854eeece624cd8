// Backlogs: a device that was cut off uploads its buffered readings late, often over many journal batches.
// Until it has caught up, the readings still to come may cancel a timer (a gas spike's hold, an absence),
// so the wall-clock tick must not fire that resident's timers past what the device has delivered so far.
// One Backlog per resident holds its clock at the oldest event time among its devices still draining.

export interface BacklogOptions {
  /** A reading that arrives this much after its own time comes from a backlog. */
  lagMs: number;
  /** A device that has sent nothing for this long (by arrival) is no longer draining: its hold ends. */
  quietMs: number;
}

export const DEFAULT_BACKLOG: BacklogOptions = { lagMs: 60_000, quietMs: 10_000 };

export class Backlog {
  private readonly draining = new Map<string, { ts: number; arrivedAt: number }>();
  /** Event time up to which this resident's timers may fire on a tick; Infinity when nothing drains. */
  holdAt = Infinity;

  constructor(private readonly options: BacklogOptions) {}

  get empty(): boolean {
    return this.draining.size === 0;
  }

  /** A device's reading at `ts` arrived at `arrivedAt`. Returns whether the hold moved. */
  note(deviceId: string, ts: number, arrivedAt: number): boolean {
    if (arrivedAt - ts > this.options.lagMs) this.draining.set(deviceId, { ts, arrivedAt });
    else if (!this.draining.delete(deviceId)) return false;
    return this.recompute();
  }

  /** Ends the holds of devices quiet since `now - quietMs`. Returns whether the hold moved. */
  expire(now: number): boolean {
    let changed = false;
    for (const [deviceId, d] of this.draining) {
      if (now - d.arrivedAt > this.options.quietMs) changed = this.draining.delete(deviceId) || changed;
    }
    return changed && this.recompute();
  }

  /** Nothing more will arrive (the end of a replay): every hold ends. */
  end(): boolean {
    this.draining.clear();
    return this.recompute();
  }

  private recompute(): boolean {
    let hold = Infinity;
    for (const d of this.draining.values()) if (d.ts < hold) hold = d.ts;
    const moved = hold !== this.holdAt;
    this.holdAt = hold;
    return moved;
  }
}
