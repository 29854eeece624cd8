// Who owns which partition of the reading log: every live node takes its fair share (partitions / live
// nodes, rounded up), renews it while alive, hands surplus back when a node joins, and takes what a dead
// node's expired leases leave. Each grant carries an epoch that rises at every change of owner; a node
// fences its writes with it, so a node that was paused past its lease cannot overwrite its successor.
// Times come from the database's clock, so the nodes' own clocks may disagree.
import type { Database, Sql } from '../../database/sql.ts';

export interface LeaseOptions {
  db: Database;
  nodeId: string;
  partitions: number;
  /** A lease not renewed for this long is free for another node; a node is live while it renews. */
  ttlMs?: number;
  /** Awaited before a partition is handed back (to snapshot what the node holds of it). */
  beforeRelease?: (partition: number, epoch: number) => Promise<void>;
}

export interface LeaseChanges {
  acquired: { partition: number; epoch: number }[];
  /** Taken by another node while this one was away: stop processing these at once. */
  lost: number[];
  released: number[];
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

function nowMs(db: Sql): string {
  return db.dialect === 'postgres'
    ? '(extract(epoch from clock_timestamp()) * 1000)::bigint'
    : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

export class PartitionLeases {
  private readonly owned = new Map<number, number>();
  private readonly ttlMs: number;
  private readonly now: string;

  constructor(private readonly options: LeaseOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.now = nowMs(options.db);
  }

  /** Partition → epoch of what this node holds now. */
  get held(): ReadonlyMap<number, number> {
    return this.owned;
  }

  /**
   * One round, run every ttl/3: say this node is alive, renew what it holds (noting what it lost), hand
   * back surplus above its fair share, then take free or expired partitions up to it.
   */
  async tick(): Promise<LeaseChanges> {
    const { db, nodeId, partitions } = this.options;
    const changes: LeaseChanges = { acquired: [], lost: [], released: [] };
    await db.run(
      `INSERT INTO cluster_nodes (node_id, seen_at) VALUES (?, ${this.now})
       ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at`,
      [nodeId],
    );
    for (const [partition, epoch] of [...this.owned]) {
      const renewed = await db.run(
        `UPDATE partition_leases SET expires_at = ${this.now} + ? WHERE part = ? AND owner = ? AND epoch = ?`,
        [this.ttlMs, partition, nodeId, epoch],
      );
      if (renewed.changes === 0) {
        this.owned.delete(partition);
        changes.lost.push(partition);
      }
    }
    const live = await db.one<{ n: number }>(
      `SELECT count(*) AS n FROM cluster_nodes WHERE seen_at >= ${this.now} - ?`,
      [this.ttlMs],
    );
    const share = Math.ceil(partitions / Math.max(1, live?.n ?? 1));
    const surplus = [...this.owned.keys()]
      .sort((a, b) => b - a)
      .slice(0, Math.max(0, this.owned.size - share));
    for (const partition of surplus) {
      await this.release(partition);
      changes.released.push(partition);
    }
    if (this.owned.size < share) {
      const free = await db.all<{ part: number }>(
        `SELECT part FROM partition_leases WHERE part < ? AND (owner IS NULL OR expires_at < ${this.now}) ORDER BY part`,
        [partitions],
      );
      const candidates = [...free.map((f) => f.part), ...(await this.unclaimed())];
      for (const partition of candidates) {
        if (this.owned.size >= share) break;
        const epoch = await this.acquire(partition);
        if (epoch !== undefined) changes.acquired.push({ partition, epoch });
      }
    }
    return changes;
  }

  /** True while this node holds the partition under that epoch; use inside the transaction it fences. */
  async fenced(tx: Sql, partition: number, epoch: number): Promise<boolean> {
    const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const row = await tx.one(
      `SELECT 1 AS ok FROM partition_leases WHERE part = ? AND owner = ? AND epoch = ?${lock}`,
      [partition, this.options.nodeId, epoch],
    );
    return row !== undefined;
  }

  /** Hands back everything (a clean shutdown), so others need not wait for the leases to expire. */
  async releaseAll(): Promise<number[]> {
    const released = [...this.owned.keys()];
    for (const partition of released) await this.release(partition);
    await this.options.db.run('DELETE FROM cluster_nodes WHERE node_id = ?', [this.options.nodeId]);
    return released;
  }

  private async release(partition: number): Promise<void> {
    const epoch = this.owned.get(partition)!;
    await this.options.beforeRelease?.(partition, epoch);
    this.owned.delete(partition);
    await this.options.db.run(
      'UPDATE partition_leases SET owner = NULL, expires_at = 0 WHERE part = ? AND owner = ? AND epoch = ?',
      [partition, this.options.nodeId, epoch],
    );
  }

  /** Partitions no node has held yet (no row). */
  private async unclaimed(): Promise<number[]> {
    const rows = await this.options.db.all<{ part: number }>('SELECT part FROM partition_leases');
    const known = new Set(rows.map((r) => r.part));
    return Array.from({ length: this.options.partitions }, (_, i) => i).filter((p) => !known.has(p));
  }

  /** Takes a free, expired or new partition; undefined when another node was quicker. */
  private async acquire(partition: number): Promise<number | undefined> {
    const row = await this.options.db.one<{ epoch: number }>(
      `INSERT INTO partition_leases (part, owner, epoch, expires_at) VALUES (?, ?, 1, ${this.now} + ?)
       ON CONFLICT (part) DO UPDATE SET owner = excluded.owner, epoch = partition_leases.epoch + 1,
         expires_at = excluded.expires_at
       WHERE partition_leases.owner IS NULL OR partition_leases.expires_at < ${this.now}
       RETURNING epoch`,
      [partition, this.options.nodeId, this.ttlMs],
    );
    if (row === undefined) return undefined;
    this.owned.set(partition, row.epoch);
    return row.epoch;
  }
}
