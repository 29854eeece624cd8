import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { describeTelemetryStore } from './conformance.ts';
import { SqliteTelemetryStore } from './sqlite.ts';
import type { Point } from './types.ts';

const root = mkdtempSync(path.join(tmpdir(), 'anju-sqlite-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describeTelemetryStore('SQLite', () => ({
  open: async (name, options) => new SqliteTelemetryStore({ dataDir: path.join(root, name), ...options }),
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
});
