// The rules of a cluster node: for every partition of the reading log this node holds a lease on, one
// rule engine restored from the partition's snapshot, fed the log from the snapshot's position on, and
// ticked by the live clock once it has caught up, so that overdue timers (fall confirmation, inactivity,
// escalation-worthy silences) fire at once after a take-over. Snapshots are written under the lease's
// epoch; a partition handed back is snapshotted first, one taken away is dropped without writing.
import type { Logger } from 'pino';
import type { Database } from '../../database/sql.ts';
import type { AcceptedReading } from '../../gateway/ports.ts';
import type { LoggedReading } from '../../ingest/log/jetstream.ts';
import type { RuleEngine } from '../engine.ts';
import { DEFAULT_LEASE_TTL_MS, PartitionLeases } from './partition-leases.ts';
import { PartitionSnapshots } from './partition-snapshots.ts';

/** What the workers need of the reading log. */
export interface PartitionLog {
  readonly partitions: number;
  follow(
    partition: number,
    fromSeq: number,
    onReading: (logged: LoggedReading) => void,
    caughtUp: () => void,
    onRestart?: (reason: string, fromSeq: number) => void,
  ): { stop(): Promise<void> };
}

export interface RuleWorkersOptions {
  db: Database;
  nodeId: string;
  log: PartitionLog;
  /** A new engine for one partition, its signals already wired to the alert lifecycle. */
  newEngine: (partition: number) => RuleEngine;
  /**
   * A promise when a reading may not be judged yet (a device registered a moment ago, before one reload
   * of the registry); the partition's later readings wait behind it, in order. Undefined: judge now.
   */
  admit?: (reading: AcceptedReading) => Promise<void> | undefined;
  logger: Logger;
  clock?: () => number;
  leaseTtlMs?: number;
  snapshotEveryMs?: number;
  tickEveryMs?: number;
}

interface Running {
  epoch: number;
  engine: RuleEngine;
  position: number;
  live: boolean;
  follower?: { stop(): Promise<void> };
  lastSnapshot: number;
}

export class RuleWorkers {
  readonly leases: PartitionLeases;
  private readonly snapshots: PartitionSnapshots;
  private readonly running = new Map<number, Running>();
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly options: RuleWorkersOptions) {
    this.clock = options.clock ?? Date.now;
    this.leases = new PartitionLeases({
      db: options.db,
      nodeId: options.nodeId,
      partitions: options.log.partitions,
      ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      beforeRelease: (partition) => this.handBack(partition),
    });
    this.snapshots = new PartitionSnapshots(options.db, this.leases);
  }

  /** Partitions this node runs rules for now. */
  get partitions(): number[] {
    return [...this.running.keys()].sort((a, b) => a - b);
  }

  /** The engine of a partition this node holds (for status reads and tests). */
  engineOf(partition: number): RuleEngine | undefined {
    return this.running.get(partition)?.engine;
  }

  start(): void {
    const ttl = this.options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.leaseTimer = setInterval(() => void this.leaseRound(), Math.max(50, Math.floor(ttl / 3)));
    this.timer = setInterval(() => this.tick(), this.options.tickEveryMs ?? 1000);
    void this.leaseRound();
  }

  /** One lease round (also run by the timer); resolves when the partitions it changed are running. */
  leaseRound(): Promise<void> {
    this.round = this.round.then(async () => {
      try {
        const changes = await this.leases.tick();
        for (const partition of changes.lost) await this.drop(partition);
        for (const { partition, epoch } of changes.acquired) await this.run(partition, epoch);
      } catch (err) {
        this.options.logger.error({ err }, 'partition lease round failed; the next one retries');
      }
    });
    return this.round;
  }

  /** Clean shutdown: every partition snapshotted and handed back, so others take them at once. */
  async stop(): Promise<void> {
    this.stopTimers();
    await this.round;
    await this.leases.releaseAll();
  }

  /** As a crash: stops everything without snapshots or hand-back (tests of take-over). */
  async abandon(): Promise<void> {
    this.stopTimers();
    await this.round;
    for (const partition of [...this.running.keys()]) await this.drop(partition);
  }

  private stopTimers(): void {
    clearInterval(this.timer);
    clearInterval(this.leaseTimer);
  }

  private async run(partition: number, epoch: number): Promise<void> {
    const saved = await this.snapshots.load(partition);
    const engine = this.options.newEngine(partition);
    if (saved) engine.restore(saved.engine);
    const state: Running = {
      epoch,
      engine,
      position: saved?.logSeq ?? 0,
      live: false,
      lastSnapshot: this.clock(),
    };
    this.running.set(partition, state);
    const judge = ({ seq, reading }: LoggedReading) => {
      if (seq <= state.position) return;
      try {
        engine.ingest(reading);
      } catch (err) {
        this.options.logger.error({ err, partition, seq }, 'rules failed on a reading; it was skipped');
      }
      state.position = seq;
    };
    const goLive = () => {
      state.live = true;
      engine.endBacklogs();
      this.advance(partition, state);
    };
    // Readings waiting behind one that may not be judged yet; judged synchronously when none waits.
    const waiting: LoggedReading[] = [];
    let liveAfterWaiting = false;
    const drain = async (first: Promise<void>) => {
      let wait: Promise<void> | undefined = first;
      for (;;) {
        await wait?.catch((err: unknown) =>
          this.options.logger.error({ err, partition }, 'reading held for a registry reload; judged anyway'),
        );
        if (this.running.get(partition) !== state) return; // handed back or lost meanwhile
        judge(waiting.shift()!);
        if (waiting.length === 0) break;
        wait = this.options.admit?.(waiting[0]!.reading);
      }
      if (liveAfterWaiting) goLive();
    };
    const ingest = (logged: LoggedReading) => {
      if (waiting.length > 0) return void waiting.push(logged);
      const wait = this.options.admit?.(logged.reading);
      if (!wait) return judge(logged);
      waiting.push(logged);
      void drain(wait);
    };
    // Not awaited: a reader opening slowly (servers electing a leader) must not hold up the lease round.
    state.follower = this.options.log.follow(
      partition,
      state.position + 1,
      ingest,
      () => {
        if (waiting.length > 0) liveAfterWaiting = true;
        else goLive();
      },
      (reason, fromSeq) =>
        this.options.logger.warn({ partition, reason, fromSeq }, 'partition reader replaced; reading on'),
    );
    this.options.logger.info({ partition, epoch, from: state.position }, 'partition taken');
  }

  private tick(): void {
    for (const [partition, state] of this.running) {
      if (state.live) this.advance(partition, state);
      if (this.clock() - state.lastSnapshot >= (this.options.snapshotEveryMs ?? 30_000))
        void this.save(partition, state);
    }
  }

  private advance(partition: number, state: Running): void {
    try {
      state.engine.advanceTo(this.clock());
    } catch (err) {
      this.options.logger.error({ err, partition }, 'rules failed on a clock tick');
    }
  }

  private async save(partition: number, state: Running): Promise<void> {
    state.lastSnapshot = this.clock();
    try {
      const kept = await this.snapshots.save(partition, state.epoch, {
        logSeq: state.position,
        engine: state.engine.snapshot(),
      });
      if (!kept) await this.drop(partition);
    } catch (err) {
      this.options.logger.error({ err, partition }, 'partition snapshot failed; the next one retries');
    }
  }

  /** Before a partition is handed back: stop reading, save where it got to. */
  private async handBack(partition: number): Promise<void> {
    const state = this.running.get(partition);
    if (!state) return;
    await state.follower?.stop();
    await this.save(partition, state);
    this.running.delete(partition);
  }

  /** Taken away (or fenced out): stop at once, write nothing. */
  private async drop(partition: number): Promise<void> {
    const state = this.running.get(partition);
    if (!state) return;
    this.running.delete(partition);
    await state.follower?.stop();
    this.options.logger.warn({ partition }, 'partition lost to another node');
  }
}
