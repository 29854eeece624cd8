// The tables by which rule workers of a cluster share out the reading log's partitions (PostgreSQL in a
// cluster; SQLite works too, for tests and a single machine).
import type { Migration, SchemaOwner } from '../../database/migrations.ts';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'cluster nodes, partition leases with fencing epochs, partition snapshots',
    sql: `
      CREATE TABLE cluster_nodes (
        node_id TEXT PRIMARY KEY,
        seen_at BIGINT NOT NULL
      );
      -- owner NULL: free. epoch rises by one at every change of owner; a write fenced by the epoch it
      -- was granted under fails once another node has taken the partition.
      CREATE TABLE partition_leases (
        part INTEGER PRIMARY KEY,
        owner TEXT,
        epoch BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      -- The rule engine's state of one partition and the log position it is complete up to, written by
      -- the partition's owner under its epoch.
      CREATE TABLE partition_snapshots (
        part INTEGER PRIMARY KEY,
        epoch BIGINT NOT NULL,
        log_seq BIGINT NOT NULL,
        state TEXT NOT NULL,
        saved_at BIGINT NOT NULL
      );
    `,
  },
];

export const CLUSTER_SCHEMA: SchemaOwner = { owner: 'cluster', migrations: MIGRATIONS };
