// The durable journal of accepted readings. `accept` resolves only after the reading is fsynced, which is
// what lets the gateway send the QoS 1 PUBACK: nothing acknowledged is lost. Appends are group-committed
// (one transaction and one fsync for every batch gathered within a few milliseconds), and a redelivery of
// the same (device, seq, ts) is stored once.
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../database/sqlite-file.ts';
import type { Logger } from 'pino';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import type { ReadingSink } from '../gateway/ports.ts';
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';
import { logErrors } from '../ops/fallback-log.ts';

export interface JournalOptions {
  path: string;
  /** Commit as soon as this many appends wait. */
  maxBatch?: number;
  /** Commit at the latest this long after the first waiting append. */
  maxDelayMs?: number;
  /** Undrained readings the journal holds before it refuses new ones (no PUBACK: the device keeps them). */
  maxDepth?: number;
  /** Drained readings stay this long so that late redeliveries are still recognised. */
  dedupWindowMs?: number;
  /** Called before each commit; a test holds it to prove that no PUBACK precedes the fsync. */
  beforeCommit?: () => Promise<void>;
  /** Tests: each fsync takes this much longer, as on a busy disk. */
  syncDelayMs?: number;
  now?: () => number;
  /** A consumer threw on a batch (the composition logs it with its stack); the other consumers go on. */
  onListenerError?: (err: unknown) => void;
  /** Told of failed commits and cursor writes (full disk) and of the next that works. */
  writes?: WriteReporter;
  /** Where a restart of the commit thread is logged. */
  logger?: Logger;
}

export interface JournalEntry {
  id: number;
  reading: AcceptedReading;
}

export class JournalFullError extends Error {
  constructor(depth: number) {
    super(`journal full: ${depth} readings wait for the store`);
  }
}

// Drained readings are forgotten at most this often, this many at a time: a steady trickle keeps up with
// the rates one gateway takes (bench:ingest peaks near 20,000 readings/s) without a long statement.
const PRUNE_EVERY_MS = 1000;
const PRUNE_CHUNK = 20_000;
// A cursor is written at most this often (and on close): the store writer advances on every batch, and
// after a crash at worst this much is written to the store again, which is idempotent.
const SAVE_CURSORS_EVERY_MS = 200;
// A commit thread that died is started again at once, but not more often than this (a thread that cannot
// even open the file must not spin).
const WORKER_RESTART_MIN_MS = 1000;

interface WorkerReply {
  id: number;
  ids?: number[];
  /** Rows a prune deleted. */
  forgotten?: number;
  error?: string;
  /** SQLite's error code (SQLITE_FULL, SQLITE_IOERR_...), so that storage errors are recognised. */
  code?: string;
}

/** A commit the worker thread could not make, with SQLite's code. */
export class JournalCommitError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(`journal commit failed: ${message}`);
  }
}

interface Pending {
  reading: AcceptedReading;
  resolve: () => void;
  reject: (err: Error) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS journal (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  reading TEXT NOT NULL,
  UNIQUE (device_id, seq, ts)
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
`;

export class Journal implements ReadingSink {
  private readonly db: Database.Database;
  /** Commits run here; this thread's connection only reads, and moves cursors. */
  private worker: Worker | undefined;
  private workerStartedAt = 0;
  private workerRestarts = 0;
  private readonly writes: WriteReporter;
  private readonly inFlight = new Map<number, (reply: WorkerReply) => void>();
  private nextRequest = 1;
  private readonly selectAfter: Database.Statement;
  private readonly saveCursor: Database.Statement;
  /** Consumers' positions, kept in memory too: `accept` checks the depth for every reading. */
  private readonly cursors = new Map<string, number>();
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  readonly maxDepth: number;
  private readonly dedupWindowMs: number;
  private readonly now: () => number;
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastId: number;
  private readonly appendListeners: ((entries: JournalEntry[]) => void)[] = [];
  private closed = false;
  private lastPruneAt = -Infinity;
  private pruning = false;
  private lastCursorSaveAt = -Infinity;

  constructor(private readonly opts: JournalOptions) {
    this.maxBatch = opts.maxBatch ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 4;
    this.maxDepth = opts.maxDepth ?? 2_000_000;
    this.dedupWindowMs = opts.dedupWindowMs ?? 24 * 3_600_000;
    this.now = opts.now ?? Date.now;
    // Cursors and pruning only: a lost cursor move after a crash means some readings are written to the
    // store again, which is idempotent. The readings are fsynced by the worker before their PUBACKs.
    this.db = openSqliteFile(opts.path, { synchronous: 'NORMAL', schema: SCHEMA });
    // Checkpoints (copying the WAL into the file, with an fsync) are the commit thread's: one begun by a
    // cursor save here would hold the event loop.
    this.db.pragma('wal_autocheckpoint = 0');
    this.selectAfter = this.db.prepare('SELECT id, reading FROM journal WHERE id > ? ORDER BY id LIMIT ?');
    this.saveCursor = this.db.prepare(
      'INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
    );
    const saved = this.db.prepare('SELECT name, position FROM cursors').all() as {
      name: string;
      position: number;
    }[];
    for (const row of saved) this.cursors.set(row.name, row.position);
    this.lastId = (
      this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM journal').get() as { id: number }
    ).id;
    this.writes = opts.writes ?? NO_REPORTER;
    this.worker = this.startWorker();
  }

  /**
   * Starts the commit thread. If it dies (a crash, an out-of-memory kill of the thread), the commits in
   * flight fail (no PUBACK: their devices resend) and a new thread takes over; readings are refused only
   * for the moment between the two.
   */
  private startWorker(): Worker {
    const worker = new Worker(new URL('./journal-worker.mjs', import.meta.url), {
      workerData: { path: this.opts.path, syncDelayMs: this.opts.syncDelayMs },
    });
    this.workerStartedAt = performance.now(); // monotonic: a clock step must not delay a restart
    let failure: Error | undefined;
    worker.on('message', (reply: WorkerReply) => {
      this.inFlight.get(reply.id)?.(reply);
      this.inFlight.delete(reply.id);
    });
    worker.on('error', (err) => (failure ??= err));
    worker.on('exit', (code) => {
      const message = `journal worker stopped (exit code ${code}${failure ? `: ${failure.message}` : ''})`;
      for (const answer of this.inFlight.values()) answer({ id: 0, error: message });
      this.inFlight.clear();
      if (this.worker === worker) this.worker = undefined;
      if (this.closed) return;
      const delay = Math.max(0, this.workerStartedAt + WORKER_RESTART_MIN_MS - performance.now());
      this.opts.logger?.error(
        { code, err: failure, restartInMs: delay },
        'journal worker stopped; restarting it',
      );
      this.workerRestarts += 1;
      setTimeout(() => {
        if (this.closed) return;
        this.worker = this.startWorker();
        void this.catchUpAfterRestart();
      }, delay).unref();
    });
    return worker;
  }

  /** How many times the commit thread was started again after it died. */
  get restarts(): number {
    return this.workerRestarts;
  }

  /** Ends the commit thread as a crash would (fault-injection tests); a new one takes over. */
  async killWorker(): Promise<void> {
    await this.worker?.terminate();
  }

  /** A commit: answered once written, then once fsynced (or with the error that stopped either). */
  private requestAppend(rows: unknown[][]): {
    committed: Promise<WorkerReply>;
    durable: Promise<WorkerReply>;
  } {
    const durableId = this.nextRequest++;
    const durable = new Promise<WorkerReply>((resolve) => this.inFlight.set(durableId, resolve));
    const committed = this.request({ type: 'append', rows, durableId }).then((reply) => {
      // Not committed: no second answer comes.
      if (reply.error !== undefined) this.inFlight.delete(durableId);
      return reply;
    });
    return { committed, durable };
  }

  private request(
    message:
      | { type: 'append'; rows: unknown[][]; durableId: number }
      | { type: 'prune'; upTo: number; limit: number; olderThan: number }
      | { type: 'close' },
  ): Promise<WorkerReply> {
    const worker = this.worker;
    if (!worker) return Promise.resolve({ id: 0, error: 'journal worker restarting' });
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.inFlight.set(id, resolve);
      worker.postMessage({ ...message, id });
    });
  }

  accept(reading: AcceptedReading): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal closed'));
    if (!this.worker) return Promise.reject(new Error('journal worker restarting'));
    const depth = this.depth('store');
    if (depth + this.pending.length >= this.maxDepth) return Promise.reject(new JournalFullError(depth));
    return new Promise((resolve, reject) => {
      this.pending.push({ reading, resolve, reject });
      // An event (an SOS, a fall, a gas alarm) does not wait for a group commit to fill.
      if (this.pending.length >= this.maxBatch || reading.message.channel === 'event') this.scheduleFlush(0);
      else if (this.pending.length === 1) this.scheduleFlush(this.maxDelayMs);
    });
  }

  /** Listeners see every newly journaled (not duplicate) reading right after its commit, in order. */
  onAppend(listener: (entries: JournalEntry[]) => void): void {
    this.appendListeners.push(listener);
  }

  /** Entries after a consumer's cursor, oldest first. */
  readAfter(position: number, limit: number): JournalEntry[] {
    const rows = this.selectAfter.all(position, limit) as { id: number; reading: string }[];
    return rows.map((r) => ({ id: r.id, reading: JSON.parse(r.reading) as AcceptedReading }));
  }

  cursor(name: string): number {
    return this.cursors.get(name) ?? 0;
  }

  /** Moves a consumer's cursor and forgets drained entries older than the dedup window. */
  advance(name: string, position: number): void {
    this.cursors.set(name, position);
    const now = this.now();
    // Neither write is needed for safety (a cursor moves again, pruning waits): a full disk must not stop
    // the writer draining what the journal holds.
    try {
      if (now - this.lastCursorSaveAt >= SAVE_CURSORS_EVERY_MS) {
        this.lastCursorSaveAt = now;
        this.saveCursors();
      }
    } catch (err) {
      this.writes.failed(err);
    }
    if (now - this.lastPruneAt >= PRUNE_EVERY_MS && !this.pruning) {
      this.lastPruneAt = now;
      this.prune(Math.min(...this.cursors.values()), now - this.dedupWindowMs);
    }
  }

  /** Forgets, on the commit thread, drained readings older than the dedup window, oldest first and bounded. */
  private prune(upTo: number, olderThan: number): void {
    this.pruning = true;
    void this.request({ type: 'prune', upTo, limit: PRUNE_CHUNK, olderThan })
      .then((reply) => {
        // id 0: the thread was gone or died (told elsewhere); the next prune tries again.
        if (reply.error !== undefined && reply.id !== 0)
          this.writes.failed(
            Object.assign(new Error(`journal prune failed: ${reply.error}`), { code: reply.code }),
          );
      })
      .finally(() => (this.pruning = false));
  }

  /** Readings journaled but not yet past a consumer's cursor. */
  depth(name: string): number {
    return this.lastId - this.cursor(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.flush();
    await this.flushing;
    await this.request({ type: 'close' });
    await this.worker?.terminate();
    try {
      this.saveCursors();
    } finally {
      this.db.close();
    }
  }

  private saveCursors(): void {
    for (const [name, position] of this.cursors) this.saveCursor.run(name, position);
  }

  private scheduleFlush(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delayMs);
  }

  /** Commits what waits; commits run one after another so their order is the journal's order. */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      if (batch.length === 0) return;
      this.pending = [];
      const rows = batch.map(({ reading }) => {
        const body = reading.message.body as { seq?: number; ts?: number };
        return [
          reading.deviceId,
          body.seq ?? -1,
          body.ts ?? reading.receivedAt,
          reading.receivedAt,
          JSON.stringify(reading),
        ];
      });
      const fail = (err: unknown) => {
        this.writes.failed(err);
        for (const p of batch) p.reject(err as Error);
      };
      let ids: number[];
      let durable: Promise<WorkerReply>;
      try {
        if (this.opts.beforeCommit) await this.opts.beforeCommit();
        const append = this.requestAppend(rows);
        durable = append.durable;
        const reply = await append.committed;
        if (reply.error !== undefined) throw new JournalCommitError(reply.error, reply.code);
        ids = reply.ids!;
      } catch (err) {
        fail(err);
        return;
      }
      const appended: JournalEntry[] = [];
      ids.forEach((id, i) => {
        if (id > 0) appended.push({ id, reading: batch[i]!.reading });
      });
      if (appended.length > 0) this.lastId = appended[appended.length - 1]!.id;
      // The rules judge a batch once it is written; its PUBACKs wait for the fsync. Were the machine to
      // lose power in between, the devices, unanswered, send those readings again.
      this.announce(appended);
      void durable.then((reply) => {
        if (reply.error !== undefined) return fail(new JournalCommitError(reply.error, reply.code));
        this.writes.succeeded();
        for (const p of batch) p.resolve();
      });
    });
    return this.flushing;
  }

  private announce(appended: JournalEntry[]): void {
    if (appended.length === 0) return;
    for (const listener of this.appendListeners) {
      try {
        listener(appended);
      } catch (err) {
        // A consumer's bug must not stop the journal (nor the other consumers).
        (this.opts.onListenerError ?? logErrors('journal', 'a journal listener failed'))(err);
      }
    }
  }

  /**
   * A thread that died may have committed a batch whose answer was lost: those readings are durable but
   * were not acknowledged, so their redelivery is a duplicate. Listeners (the rule engine) must still see
   * them once: they are read back, in order, before the next commit.
   */
  private catchUpAfterRestart(): Promise<void> {
    this.flushing = this.flushing.then(() => {
      try {
        for (let batch = this.readAfter(this.lastId, 1000); batch.length > 0;) {
          this.lastId = batch[batch.length - 1]!.id;
          this.announce(batch);
          batch = this.readAfter(this.lastId, 1000);
        }
      } catch (err) {
        // The store writer reads the journal itself; only the listeners miss these. Commits must go on.
        this.opts.logger?.error({ err }, 'journal entries of the dead commit thread not read back');
      }
    });
    return this.flushing;
  }
}
