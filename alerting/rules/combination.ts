// Combinations that raise severity: a gas alarm (methane, LPG or carbon monoxide at alarm level or above)
// in a home where nobody has moved for afterMin may mean the resident is already overcome, so the open gas
// alert rises to critical. It needs some sign of movement on record to judge "no movement since".
import { RANK } from './outlet.ts';
import type { Subject } from './subject.ts';
import { Timer } from './timers.ts';

const MIN_MS = 60_000;
const GAS_RULES = ['gas.methane', 'gas.lpg', 'gas.co'] as const;
const SOURCE = '+no_movement';

export class GasNoMovementRule {
  private readonly timer = new Timer((at) => this.check(at));

  constructor(private readonly subject: Subject) {}

  /** Called when a gas rule is raised, and on rearm. */
  check(at: number): void {
    const cfg = this.subject.rules.combination.gasNoMovement;
    const last = this.subject.lastActivity;
    if (!cfg.enabled || Number.isNaN(last)) return;
    const outlet = this.subject.outlet;
    const alarmed = GAS_RULES.filter(
      (r) => outlet.level(r) >= RANK.alarm && outlet.level(r) < RANK[cfg.severity],
    );
    if (alarmed.length === 0) return;
    const due = last + cfg.afterMin * MIN_MS;
    if (at < due) {
      this.subject.timers.schedule(this.timer, due);
      return;
    }
    const minutes = Math.round((at - last) / MIN_MS);
    for (const ruleId of alarmed) {
      this.subject.raise(ruleId, SOURCE, cfg.severity, {
        at,
        deviceId: null,
        summary: `gas alarm and no movement at home for ${minutes} min`,
        evidence: { noMovementMin: minutes, lastActivity: last },
        autoClear: true,
      });
    }
  }
}
