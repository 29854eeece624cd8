// The last step before a signal leaves the engine: one incident, one alert. Several sources may feed one
// (resident, rule), e.g. two gas sensors or a pulse too high and too low; the outlet raises when the
// highest severity among them rises or a new source joins, and clears only when the last of them clears. Sources whose key
// starts with "+" only raise severity (combinations) and go when the last real source goes.
import { SEVERITIES, type AlertSignal, type Severity } from '../signals.ts';

export const RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, alarm: 2, critical: 3 };

interface Entry {
  sources: Map<string, number>;
  emitted: number;
}

export interface SignalFacts {
  at: number;
  deviceId: string | null;
  summary: string;
  evidence: Record<string, unknown>;
  autoClear: boolean;
}

export type OutletState = Record<string, { sources: Record<string, number>; emitted: number }>;

export class Outlet {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly residentId: string,
    private readonly emit: (signal: AlertSignal) => void,
  ) {}

  /** The highest severity raised for `ruleId` (RANK), or -1 when it is not raised. */
  level(ruleId: string): number {
    return this.entries.get(ruleId)?.emitted ?? -1;
  }

  /** Whether `source` is among those raising `ruleId`. */
  raisedBy(ruleId: string, source: string): boolean {
    return this.entries.get(ruleId)?.sources.has(source) ?? false;
  }

  /**
   * `repeat` emits even when the severity does not rise, with this raise's own severity: every SOS press
   * and every fall is its own signal, since the engine cannot know whether a person closed the last one.
   */
  raise(ruleId: string, source: string, severity: Severity, facts: SignalFacts, repeat = false): void {
    let entry = this.entries.get(ruleId);
    if (!entry) {
      entry = { sources: new Map(), emitted: -1 };
      this.entries.set(ruleId, entry);
    }
    const rank = RANK[severity];
    const before = entry.sources.get(source);
    entry.sources.set(source, Math.max(rank, before ?? -1));
    // A new source (a second device offline) updates the open alert even at the same severity.
    if (rank <= entry.emitted && !repeat && before !== undefined) return;
    entry.emitted = Math.max(entry.emitted, rank);
    this.send('raise', ruleId, repeat ? severity : SEVERITIES[entry.emitted]!, facts);
  }

  clear(ruleId: string, source: string, facts: SignalFacts): void {
    const entry = this.entries.get(ruleId);
    if (!entry || !entry.sources.delete(source)) return;
    for (const key of entry.sources.keys()) if (!key.startsWith('+')) return;
    const severity = SEVERITIES[entry.emitted]!;
    this.entries.delete(ruleId);
    if (facts.autoClear) this.send('clear', ruleId, severity, facts);
  }

  toJSON(): OutletState {
    const out: OutletState = {};
    for (const [ruleId, e] of this.entries)
      out[ruleId] = { sources: Object.fromEntries(e.sources), emitted: e.emitted };
    return out;
  }

  restore(state: OutletState): void {
    for (const [ruleId, e] of Object.entries(state)) {
      this.entries.set(ruleId, { sources: new Map(Object.entries(e.sources)), emitted: e.emitted });
    }
  }

  private send(action: 'raise' | 'clear', ruleId: string, severity: Severity, f: SignalFacts): void {
    this.emit({
      action,
      residentId: this.residentId,
      ruleId,
      severity,
      // Timers land on computed crossings (the CO dose), which are fractional; signals carry whole ms.
      at: Math.ceil(f.at),
      deviceId: f.deviceId,
      summary: f.summary,
      evidence: f.evidence,
      autoClear: f.autoClear,
    });
  }
}
