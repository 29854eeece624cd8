// The health of every write path: which part last failed to write, with what, and whether it is failing
// now. Parts report through a WriteReporter; /healthz and /metrics read the WriteHealth. A part is failing
// from its first failed write until its next successful one, or until a minute passed without a failure:
// some paths write rarely (a session touch, a rule snapshot a minute), and one old error must not keep
// /healthz degraded long after the disk was freed.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { errorCode } from './storage-errors.ts';

/** The write paths Anju watches. */
export const WRITE_PARTS = [
  'journal',
  'store',
  'presence',
  'last_seen',
  'alerts',
  'escalation',
  'rule_state',
  'sessions',
  'api_tokens',
] as const;
export type WritePart = (typeof WRITE_PARTS)[number];

/** What a part calls; every method is cheap enough for a hot path. */
export interface WriteReporter {
  failed(err: unknown): void;
  succeeded(): void;
  /** Writes given up for good (presence, last-seen): counted, not retried. */
  dropped(count?: number): void;
}

export interface WriteError {
  message: string;
  code?: string;
  at: number;
}

export interface PartHealth {
  failing: boolean;
  errors: number;
  dropped: number;
  lastError?: WriteError;
}

/** A failure older than this, with none since, no longer counts as failing. */
export const FAILING_FOR_MS = 60_000;
/**
 * Bookkeeping writes (presence, a session's or a token's last use) are few and dropped when they fail: one failure
 * must not keep /healthz degraded for a minute after the disk was freed.
 */
const FAILING_FOR_MS_OF: Partial<Record<WritePart, number>> = {
  // Presence is written only on connect and disconnect: devices that stay connected write none.
  presence: 10_000,
  sessions: 10_000,
  api_tokens: 10_000,
};

/** A reporter that ignores everything, for parts used outside a server (CLI, tests). */
export const NO_REPORTER: WriteReporter = { failed() {}, succeeded() {}, dropped() {} };

export class WriteHealth {
  private readonly parts = new Map<WritePart, PartHealth>();
  private readonly errors: Counter<'part'>;
  private readonly drops: Counter<'part'>;
  private readonly listeners = new Set<() => void>();

  /** When each part last failed, on the monotonic clock: a step of the wall clock must not move it. */
  private readonly failedAt = new Map<WritePart, number>();

  constructor(
    private readonly opts: {
      metrics: Registry;
      logger: Logger;
      /** Wall clock, for `lastError.at`. */
      now?: () => number;
      /** Monotonic clock, for how long ago a part failed. */
      monotonic?: () => number;
    },
  ) {
    for (const part of WRITE_PARTS) this.parts.set(part, { failing: false, errors: 0, dropped: 0 });
    const registers = [opts.metrics];
    this.errors = new Counter({
      name: 'anju_storage_write_errors_total',
      help: 'Writes that failed, by write path (journal, store, presence, alerts, ...).',
      labelNames: ['part'],
      registers,
    });
    this.drops = new Counter({
      name: 'anju_storage_writes_dropped_total',
      help: 'Writes given up for good while storage failed (presence, last-seen, session touches).',
      labelNames: ['part'],
      registers,
    });
    const failing = () => new Set(this.failing());
    new Gauge({
      name: 'anju_storage_write_failing',
      help: '1 while the write path is failing (its last write failed), else 0.',
      labelNames: ['part'],
      registers,
      collect() {
        const now = failing();
        for (const part of WRITE_PARTS) this.set({ part }, now.has(part) ? 1 : 0);
      },
    });
    for (const part of WRITE_PARTS) {
      this.errors.labels(part);
      this.drops.labels(part);
    }
  }

  reporter(part: WritePart): WriteReporter {
    return {
      failed: (err) => this.failed(part, err),
      succeeded: () => this.succeeded(part),
      dropped: (count = 1) => this.dropped(part, count),
    };
  }

  failed(part: WritePart, err: unknown): void {
    const health = this.parts.get(part)!;
    const message = err instanceof Error ? err.message : String(err);
    const code = errorCode(err);
    const wasFailing = this.isFailing(part, health);
    health.errors += 1;
    health.lastError = { message, ...(code ? { code } : {}), at: (this.opts.now ?? Date.now)() };
    this.failedAt.set(part, this.monotonic());
    this.errors.inc({ part });
    if (wasFailing) return;
    health.failing = true;
    // Once per outage and part: a full disk fails thousands of writes.
    this.opts.logger.error({ err, part }, 'storage write failing');
    this.changed();
  }

  succeeded(part: WritePart): void {
    const health = this.parts.get(part)!;
    if (!health.failing) return;
    health.failing = false;
    this.opts.logger.warn(
      { part, errors: health.errors, dropped: health.dropped },
      'storage write recovered',
    );
    this.changed();
  }

  dropped(part: WritePart, count = 1): void {
    this.parts.get(part)!.dropped += count;
    this.drops.inc({ part }, count);
  }

  /** Parts failing now. */
  failing(): WritePart[] {
    return [...this.parts].filter(([part, h]) => this.isFailing(part, h)).map(([part]) => part);
  }

  status(): Record<WritePart, PartHealth> {
    return Object.fromEntries(
      [...this.parts].map(([part, h]) => [
        part,
        { ...h, failing: this.isFailing(part, h), ...(h.lastError ? { lastError: { ...h.lastError } } : {}) },
      ]),
    ) as Record<WritePart, PartHealth>;
  }

  /** Called whenever a part starts or stops failing; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private isFailing(part: WritePart, h: PartHealth): boolean {
    const window = FAILING_FOR_MS_OF[part] ?? FAILING_FOR_MS;
    return h.failing && this.monotonic() - (this.failedAt.get(part) ?? -Infinity) < window;
  }

  private monotonic(): number {
    return (this.opts.monotonic ?? performance.now.bind(performance))();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
