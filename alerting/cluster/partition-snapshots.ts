// Each partition's rule state with the log position it is complete up to. Only the partition's current
// owner can write it: the write checks the lease's epoch in the same transaction.
import type { Database } from '../../database/sql.ts';
import type { EngineSnapshot } from '../engine.ts';
import type { PartitionLeases } from './partition-leases.ts';

export interface PartitionSnapshot {
  /** The last log sequence the state includes; 0 for none. */
  logSeq: number;
  engine: EngineSnapshot;
}

export class PartitionSnapshots {
  constructor(
    private readonly db: Database,
    private readonly leases: PartitionLeases,
    private readonly now: () => number = Date.now,
  ) {}

  async load(partition: number): Promise<PartitionSnapshot | undefined> {
    const row = await this.db.one<{ log_seq: number; state: string }>(
      'SELECT log_seq, state FROM partition_snapshots WHERE part = ?',
      [partition],
    );
    return row && { logSeq: row.log_seq, engine: JSON.parse(row.state) as EngineSnapshot };
  }

  /** Saves unless another node has taken the partition since `epoch` was granted; false then. */
  async save(partition: number, epoch: number, snapshot: PartitionSnapshot): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await this.leases.fenced(tx, partition, epoch))) return false;
      await tx.run(
        `INSERT INTO partition_snapshots (part, epoch, log_seq, state, saved_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (part) DO UPDATE SET epoch = excluded.epoch, log_seq = excluded.log_seq,
           state = excluded.state, saved_at = excluded.saved_at`,
        [partition, epoch, snapshot.logSeq, JSON.stringify(snapshot.engine), this.now()],
      );
      return true;
    });
  }
}
