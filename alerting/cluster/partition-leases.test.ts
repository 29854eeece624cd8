import { expect, it } from 'vitest';
import { migrate } from '../../database/migrations.ts';
import type { Database } from '../../database/sql.ts';
import { eachBackend } from '../../test/backends.ts';
import { CLUSTER_SCHEMA } from './migrations.ts';
import { PartitionLeases } from './partition-leases.ts';

const P = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function owners(db: Database): Promise<Record<number, string | null>> {
  const rows = await db.all<{ part: number; owner: string | null }>(
    'SELECT part, owner FROM partition_leases ORDER BY part',
  );
  return Object.fromEntries(rows.map((r) => [r.part, r.owner]));
}

eachBackend('partition leases', (backend) => {
  async function twoNodes(ttlMs: number, releasedByA: number[] = []) {
    const db = await backend.fresh();
    await migrate(db, [CLUSTER_SCHEMA]);
    // On PostgreSQL the second node is another connection, as another process would be.
    const other = backend.name === 'postgres' ? await backend.again() : db;
    const a = new PartitionLeases({
      db,
      nodeId: 'node-a',
      partitions: P,
      ttlMs,
      beforeRelease: async (partition) => void releasedByA.push(partition),
    });
    const b = new PartitionLeases({ db: other, nodeId: 'node-b', partitions: P, ttlMs });
    return { db, a, b };
  }

  it('gives a lone node every partition, each under a first epoch', async () => {
    const { db, a } = await twoNodes(5_000);
    const changes = await a.tick();
    expect(changes.acquired.map((c) => c.partition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(changes.acquired.every((c) => c.epoch === 1)).toBe(true);
    expect(Object.values(await owners(db))).toEqual(Array(P).fill('node-a'));
  });

  it('shares out evenly when a second node joins, handing over only after the holder let go', async () => {
    const released: number[] = [];
    const { db, a, b } = await twoNodes(5_000, released);
    await a.tick();
    expect((await b.tick()).acquired).toEqual([]); // nothing free yet: A still holds all
    expect((await a.tick()).released.sort()).toEqual([4, 5, 6, 7]);
    expect(released.sort()).toEqual([4, 5, 6, 7]); // A snapshotted them before letting go
    const taken = await b.tick();
    expect(taken.acquired.map((c) => c.partition)).toEqual([4, 5, 6, 7]);
    expect(taken.acquired.every((c) => c.epoch === 2)).toBe(true);
    const table = await owners(db);
    expect([0, 1, 2, 3].map((p) => table[p])).toEqual(Array(4).fill('node-a'));
    expect([4, 5, 6, 7].map((p) => table[p])).toEqual(Array(4).fill('node-b'));
    expect([...a.held.keys()].filter((p) => b.held.has(p))).toEqual([]);
  });

  it("takes a dead node's partitions after its leases expire, and fences the dead node's late writes", async () => {
    const { db, a, b } = await twoNodes(600);
    await a.tick();
    await b.tick();
    await a.tick();
    await b.tick();
    const aHeld = new Map(a.held);
    expect(aHeld.size).toBe(4);
    // A stops renewing (killed or paused); B keeps ticking.
    await sleep(800);
    const took = await b.tick();
    expect(took.acquired.map((c) => c.partition).sort()).toEqual([...aHeld.keys()].sort());
    expect(b.held.size).toBe(P);
    // A wakes up: its writes under the old epochs are refused, and its next round reports them lost.
    const [partition, epoch] = [...aHeld][0]!;
    expect(await db.transaction((tx) => a.fenced(tx, partition, epoch))).toBe(false);
    const b0 = b.held.get(partition)!;
    expect(b0).toBe(epoch + 1);
    expect((await a.tick()).lost.sort()).toEqual([...aHeld.keys()].sort());
    expect(await db.transaction((tx) => b.fenced(tx, partition, b0))).toBe(true);
  });

  it('lets the other node take everything at once after a clean shutdown', async () => {
    const { a, b } = await twoNodes(60_000);
    await a.tick();
    await b.tick();
    await a.tick();
    await b.tick();
    await a.releaseAll();
    const took = await b.tick();
    expect(took.acquired).toHaveLength(4);
    expect(b.held.size).toBe(P);
  });
});
