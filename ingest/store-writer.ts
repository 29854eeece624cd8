// Drains the journal into the telemetry store in batches. When the store is down it retries with
// backoff and catches up when the store returns; the journal holds the readings meanwhile. Points a store
// can never take (RefusedPointsError) are dropped and counted so they do not block the rest.
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Journal, JournalEntry } from './journal.ts';
import { toPoints } from './points.ts';
import { RefusedPointsError, type TelemetryStore } from './store/types.ts';
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';

export const STORE_CURSOR = 'store';
/** Journaled readings held in memory for the writer; beyond this it reads them back from the journal. */
const MAX_REMEMBERED = 50_000;

export interface StoreWriterOptions {
  journal: Journal;
  store: TelemetryStore;
  logger: Logger;
  metrics: Registry;
  batchSize?: number;
  /** Idle poll interval when the journal is drained. */
  idleMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Fraction of the journal's bound at which operators are warned, well before anything is refused. */
  warnDepthRatio?: number;
  /** Told of failed store writes and of the next that works, for /healthz. */
  writes?: WriteReporter;
}

export class StoreWriter {
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly warnDepth: number;
  private backoffMs = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private depthWarned = false;
  private recent: JournalEntry[] = [];
  private lastError: string | undefined;
  private readonly writeSeconds: Histogram;
  private readonly writeErrors: Counter;
  private readonly dropped: Counter;
  private readonly depthHigh: Gauge;

  constructor(private readonly opts: StoreWriterOptions) {
    this.batchSize = opts.batchSize ?? 2000;
    this.idleMs = opts.idleMs ?? 50;
    this.minBackoffMs = opts.minBackoffMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.warnDepth = Math.floor(opts.journal.maxDepth * (opts.warnDepthRatio ?? 0.5));
    const registers = [opts.metrics];
    this.writeSeconds = new Histogram({
      name: 'anju_store_write_seconds',
      help: 'Time to write one batch to the telemetry store.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.writeErrors = new Counter({
      name: 'anju_store_write_errors_total',
      help: 'Batches the telemetry store failed to take (retried).',
      registers,
    });
    this.dropped = new Counter({
      name: 'anju_store_points_refused_total',
      help: 'Points the telemetry store refused for good (invalid for the store).',
      registers,
    });
    this.depthHigh = new Gauge({
      name: 'anju_journal_depth_alarm',
      help: '1 while the journal holds more undrained readings than the warning level.',
      registers,
    });
    new Gauge({
      name: 'anju_journal_depth',
      help: 'Readings journaled but not yet written to the telemetry store.',
      registers,
      collect() {
        this.set(opts.journal.depth(STORE_CURSOR));
      },
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // New readings wake an idle writer at once; a writer backing off from a failed store waits its turn.
    this.opts.journal.onAppend((entries) => {
      this.remember(entries);
      if (this.backoffMs === 0) this.wake?.();
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** For /healthz: the store's lag and the last error, if the writer is retrying. */
  status(): { depth: number; retrying: boolean; lastError?: string } {
    return {
      depth: this.opts.journal.depth(STORE_CURSOR),
      retrying: this.backoffMs > 0,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Keeps what was just journaled, so that a writer keeping up need not read it back and parse it again.
   * Only a run that follows on without a gap is kept; anything else is read from the journal.
   */
  private remember(entries: JournalEntry[]): void {
    const last = this.recent.at(-1)?.id ?? this.opts.journal.cursor(STORE_CURSOR);
    if (entries[0]!.id !== last + 1 || this.recent.length + entries.length > MAX_REMEMBERED) {
      this.recent = [];
      return;
    }
    for (const entry of entries) this.recent.push(entry);
  }

  private nextBatch(): JournalEntry[] {
    const cursor = this.opts.journal.cursor(STORE_CURSOR);
    const written = this.recent.findIndex((e) => e.id > cursor);
    this.recent.splice(0, written === -1 ? this.recent.length : written);
    if (this.recent.length > 0 && this.recent[0]!.id === cursor + 1) {
      return this.recent.slice(0, this.batchSize);
    }
    this.recent = [];
    return this.opts.journal.readAfter(cursor, this.batchSize);
  }

  /** Writes one batch; returns how many journal entries it consumed (0 when drained). */
  async drainOnce(): Promise<number> {
    const { journal, store } = this.opts;
    const entries = this.nextBatch();
    if (entries.length === 0) return 0;
    const points = entries.flatMap((e) => toPoints(e.reading));
    const stopTimer = this.writeSeconds.startTimer();
    try {
      if (points.length > 0) await store.write(points);
    } catch (err) {
      if (!(err instanceof RefusedPointsError)) throw err;
      this.dropped.inc(err.refused.length);
      this.opts.logger.warn(
        { refused: err.refused.slice(0, 5), count: err.refused.length },
        'store refused points',
      );
    } finally {
      stopTimer();
    }
    journal.advance(STORE_CURSOR, entries[entries.length - 1]!.id);
    return entries.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.checkDepth();
      let consumed = 0;
      try {
        consumed = await this.drainOnce();
        if (this.backoffMs > 0) this.opts.logger.info('telemetry store reachable again; catching up');
        this.backoffMs = 0;
        this.lastError = undefined;
        if (consumed > 0) (this.opts.writes ?? NO_REPORTER).succeeded();
      } catch (err) {
        this.writeErrors.inc();
        this.lastError = (err as Error).message;
        (this.opts.writes ?? NO_REPORTER).failed(err);
        this.backoffMs = Math.min(this.maxBackoffMs, Math.max(this.minBackoffMs, this.backoffMs * 2));
        this.opts.logger.error({ err, retryInMs: this.backoffMs }, 'telemetry store write failed');
      }
      if (consumed === this.batchSize && this.backoffMs === 0) continue;
      await this.sleep(this.backoffMs || this.idleMs);
    }
  }

  private checkDepth(): void {
    const depth = this.opts.journal.depth(STORE_CURSOR);
    const high = depth >= this.warnDepth;
    if (high && !this.depthWarned) {
      this.opts.logger.error(
        { depth, warnAt: this.warnDepth, maxDepth: this.opts.journal.maxDepth },
        'journal filling up: the telemetry store is not keeping up; readings will be refused at maxDepth',
      );
    }
    this.depthWarned = high;
    this.depthHigh.set(high ? 1 : 0);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
