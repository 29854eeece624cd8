// Tells people when Anju's own storage is in trouble: a log line and a system alert ("Anju storage almost
// full / failing") when the data directory falls below its free-space threshold or a write path fails,
// cleared by itself when both are fine again. The alert goes through the alert service like any other, so
// it reaches the consoles even while it cannot be stored (see AlertService.apply).
import type { Logger } from 'pino';
import { SYSTEM_RESIDENT } from './alerts/schemas.ts';
import type { AlertSignal } from './signals.ts';

export const STORAGE_RULE = 'system.storage';

export interface StorageCondition {
  freeBytes: number;
  warnBelowBytes: number;
  low: boolean;
  /** So little free that the next write will fail: treated as failing. */
  full?: boolean;
  /** Write paths failing now (journal, presence, alerts, ...). */
  failing: readonly string[];
}

type Level = 'ok' | 'almost_full' | 'failing';

function levelOf(c: StorageCondition): Level {
  if (c.failing.length > 0 || c.full) return 'failing';
  return c.low ? 'almost_full' : 'ok';
}

const MB = 1024 * 1024;

function summaryOf(level: Level, c: StorageCondition): string {
  const free = `${(c.freeBytes / MB).toFixed(1)} MB free`;
  if (level === 'failing' && c.failing.length === 0) return `Anju storage full: ${free}`;
  if (level === 'failing') return `Anju storage failing: ${c.failing.join(', ')} cannot write (${free})`;
  return `Anju storage almost full: ${free}, warning below ${(c.warnBelowBytes / MB).toFixed(0)} MB`;
}

export interface StorageAlarmOptions {
  condition: () => StorageCondition;
  signal: (signal: AlertSignal) => void;
  logger: Logger;
  now?: () => number;
  /** How often the condition is looked at (statfs costs microseconds; a busy disk fills in seconds). */
  everyMs?: number;
}

export class StorageAlarm {
  private level: Level = 'ok';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: StorageAlarmOptions) {
    this.timer = setInterval(() => this.check(), opts.everyMs ?? 1000);
    this.timer.unref();
  }

  /** Looks at the condition now; raises, escalates or clears the alert when its level changed. */
  check(): void {
    const condition = this.opts.condition();
    const level = levelOf(condition);
    if (level === this.level) return;
    const was = this.level;
    this.level = level;
    const at = (this.opts.now ?? Date.now)();
    const evidence = {
      freeBytes: condition.freeBytes,
      warnBelowBytes: condition.warnBelowBytes,
      failing: [...condition.failing],
      level,
    };
    if (level === 'ok') {
      this.opts.logger.warn({ ...evidence, was }, 'storage fine again');
      this.send({ action: 'clear', severity: 'info', at, summary: 'Anju storage fine again', evidence });
      return;
    }
    const summary = summaryOf(level, condition);
    this.opts.logger.error(evidence, summary);
    this.send({
      action: 'raise',
      severity: level === 'failing' ? 'critical' : 'warning',
      at,
      summary,
      evidence,
    });
  }

  close(): void {
    clearInterval(this.timer);
  }

  private send(s: Pick<AlertSignal, 'action' | 'severity' | 'at' | 'summary' | 'evidence'>): void {
    try {
      this.opts.signal({
        ...s,
        residentId: SYSTEM_RESIDENT,
        ruleId: STORAGE_RULE,
        deviceId: null,
        autoClear: true,
      });
    } catch (err) {
      this.opts.logger.error({ err }, 'storage alert not applied');
    }
  }
}
