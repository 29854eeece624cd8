import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { describeTelemetryStore } from './conformance.ts';
import { SqliteTelemetryStore } from './sqlite.ts';
import { ThreadedSqliteTelemetryStore } from './sqlite-threaded.ts';
import { RefusedPointsError, type Point } from './types.ts';

const root = mkdtempSync(path.join(tmpdir(), 'anju-sqlite-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeTelemetryStore('SQLite', () => ({
  open: async (name, options) => new SqliteTelemetryStore({ dataDir: path.join(root, name), ...options }),
}));

// What `anju serve` runs: the same store with its writes on a worker thread.
describeTelemetryStore('SQLite, writing on a thread of its own', () => ({
  open: async (name, options) =>
    new ThreadedSqliteTelemetryStore({ dataDir: path.join(root, `threaded-${name}`), ...options }),
}));

const HOUR = 3_600_000;
const reading = (ts: number): Point => ({
  measurement: 'env',
  tags: { deviceId: 'env-1', residentId: 'res-1' },
  fields: { temperature: 21.5 },
  ts,
  seq: 1,
});

describe('SQLite store', () => {
  it('keeps its data in <dataDir>/telemetry.db in WAL mode', async () => {
    const dataDir = path.join(root, 'file-location', 'nested');
    const store = new SqliteTelemetryStore({ dataDir });
    await store.write([reading(Date.now())]);
    await store.close();
    const file = path.join(dataDir, 'telemetry.db');
    expect(existsSync(file)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('deletes readings that age past the retention period on its own, by its clock', async () => {
    let clock = 1_800_000_000_000;
    const store = new SqliteTelemetryStore(
      { dataDir: path.join(root, 'auto-retention'), retentionMs: HOUR, retentionCheckMs: 10 },
      () => clock,
    );
    await store.write([reading(clock - HOUR / 2), reading(clock - 1000)]);
    const all = { deviceId: 'env-1', field: 'temperature', from: clock - HOUR, to: clock } as const;
    expect(await store.query(all)).toHaveLength(2);
    const written = clock;
    clock += HOUR / 2 + 60_000;
    await vi.waitFor(async () =>
      expect(await store.query(all)).toEqual([{ ts: written - 1000, value: 21.5 }]),
    );
    expect(await store.health()).toMatchObject({ ok: true });
    await store.close();
  });

  it('writes a large batch whole, refusing only a late point', async () => {
    const store = new SqliteTelemetryStore({ dataDir: path.join(root, 'large-batch') });
    const base = 1_800_000_000_000;
    const points = Array.from({ length: 1200 }, (_, i) => reading(base + i * 1000));
    points[1100] = { ...reading(base + 1100 * 1000), fields: { temperature: 'warm' } };
    const error = await store.write(points).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(RefusedPointsError);
    expect((error as RefusedPointsError).refused.map((r) => r.index)).toEqual([1100]);
    expect((error as RefusedPointsError).stored).toBe(1199);
    const rows = await store.query({
      deviceId: 'env-1',
      field: 'temperature',
      from: base,
      to: base + 1200 * 1000,
    });
    expect(rows).toHaveLength(1199);
    await store.close();
  });
});
