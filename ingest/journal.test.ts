import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { Journal, JournalFullError } from './journal.ts';

const dirs: string[] = [];
function journalPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-journal-'));
  dirs.push(dir);
  return path.join(dir, 'journal.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function reading(deviceId: string, seq: number, ts = 1_764_000_000_000 + seq): AcceptedReading {
  return {
    deviceId,
    kind: 'wearable',
    residentId: 'r1',
    homeId: 'h1',
    receivedAt: ts,
    qos: 1,
    message: { channel: 'telemetry', body: { ts, seq, heartRate: 70, worn: true } },
  };
}

describe('journal', () => {
  it('keeps accepted readings across a reopen, in order', async () => {
    const file = journalPath();
    const journal = new Journal({ path: file });
    await Promise.all([1, 2, 3].map((s) => journal.accept(reading('wb-1', s))));
    await journal.close();
    const reopened = new Journal({ path: file });
    expect(reopened.readAfter(0, 10).map((e) => e.reading.message.body)).toEqual([
      expect.objectContaining({ seq: 1 }),
      expect.objectContaining({ seq: 2 }),
      expect.objectContaining({ seq: 3 }),
    ]);
    expect(reopened.depth('store')).toBe(3);
    await reopened.close();
  });

  it("keeps a consumer's last position across a reopen, however quickly it moved", async () => {
    const file = journalPath();
    const journal = new Journal({ path: file });
    await Promise.all([1, 2, 3].map((s) => journal.accept(reading('wb-1', s))));
    for (const position of [1, 2, 3]) journal.advance('store', position);
    await journal.close();
    const reopened = new Journal({ path: file });
    expect(reopened.cursor('store')).toBe(3);
    expect(reopened.depth('store')).toBe(0);
    await reopened.close();
  });

  it('hands a failing consumer to onListenerError and still feeds the next consumer the batch', async () => {
    const errors: unknown[] = [];
    const journal = new Journal({ path: journalPath(), onListenerError: (err) => errors.push(err) });
    const seen: number[] = [];
    journal.onAppend(() => {
      throw new Error('consumer bug');
    });
    journal.onAppend((entries) => seen.push(...entries.map((e) => e.id)));
    await Promise.all([1, 2].map((s) => journal.accept(reading('wb-1', s))));
    expect(seen).toEqual([1, 2]);
    expect(errors).toMatchObject([{ message: 'consumer bug' }]);
    await journal.close();
  });

  it('stores a redelivery of the same device, seq and ts once', async () => {
    const journal = new Journal({ path: journalPath() });
    const appended: number[] = [];
    journal.onAppend((entries) => appended.push(...entries.map((e) => e.id)));
    await journal.accept(reading('wb-1', 7));
    await journal.accept(reading('wb-1', 7));
    await journal.accept(reading('wb-2', 7)); // another device with the same seq is a different reading
    await journal.accept(reading('wb-1', 7, 1_764_000_999_000)); // a device that rebooted reuses seq
    expect(journal.readAfter(0, 10)).toHaveLength(3);
    expect(appended).toHaveLength(3);
    await journal.close();
  });

  it('resolves no append before its commit has run', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const journal = new Journal({ path: journalPath(), beforeCommit: () => held });
    let resolved = false;
    const append = journal.accept(reading('wb-1', 1)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false);
    release();
    await append;
    expect(resolved).toBe(true);
    await journal.close();
  });

  it('commits many concurrent appends in few transactions', async () => {
    let commits = 0;
    const journal = new Journal({
      path: journalPath(),
      maxBatch: 500,
      beforeCommit: async () => {
        commits += 1;
      },
    });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => journal.accept(reading('wb-1', i))));
    expect(journal.readAfter(0, 5000)).toHaveLength(2000);
    expect(commits).toBeLessThanOrEqual(8);
    await journal.close();
  });

  it('refuses new readings when the undrained depth reaches its bound, and takes them again once drained', async () => {
    const journal = new Journal({ path: journalPath(), maxDepth: 3 });
    await Promise.all([1, 2, 3].map((s) => journal.accept(reading('wb-1', s))));
    await expect(journal.accept(reading('wb-1', 4))).rejects.toBeInstanceOf(JournalFullError);
    journal.advance('store', journal.readAfter(0, 10).at(-1)!.id);
    await expect(journal.accept(reading('wb-1', 4))).resolves.toBeUndefined();
    await journal.close();
  });

  it('commits an event at once, with what waited before it, instead of waiting for the group commit', async () => {
    const journal = new Journal({ path: journalPath(), maxDelayMs: 60_000 });
    let telemetryCommitted = false;
    const telemetry = journal.accept(reading('wb-1', 1)).then(() => (telemetryCommitted = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(telemetryCommitted).toBe(false); // a group commit waits for its batch (here: a minute)
    const ts = 1_764_000_000_100;
    await journal.accept({
      ...reading('wb-1', 2, ts),
      message: { channel: 'event', body: { ts, seq: 2, type: 'sos' } },
    });
    await telemetry;
    expect(journal.readAfter(0, 10).map((e) => e.reading.message.channel)).toEqual(['telemetry', 'event']);
    await journal.close();
  });

  it('lets the rules judge a batch once written, while its PUBACKs wait for the fsync', async () => {
    // A disk whose fsync takes a second, as a busy one can: an SOS must not wait for it to be judged.
    const journal = new Journal({ path: journalPath(), syncDelayMs: 1000 });
    const seenAt = new Map<number, number>();
    journal.onAppend((entries) => {
      for (const e of entries) seenAt.set((e.reading.message.body as { seq: number }).seq, performance.now());
    });
    const start = performance.now();
    const first = journal.accept(reading('wb-1', 1));
    await vi.waitFor(() => expect(seenAt.has(1)).toBe(true));
    // The next commit does not wait for the first one's fsync either.
    const secondAt = performance.now();
    const second = journal.accept(reading('wb-1', 2));
    await vi.waitFor(() => expect(seenAt.has(2)).toBe(true));
    await first;
    const ackedAt = performance.now();
    await second;
    expect(seenAt.get(1)! - start).toBeLessThan(500);
    expect(seenAt.get(2)! - secondAt).toBeLessThan(500);
    expect(ackedAt - start).toBeGreaterThanOrEqual(990);
    expect(performance.now() - secondAt).toBeGreaterThanOrEqual(990);
    await journal.close();
  });

  it('forgets drained entries only after the dedup window', async () => {
    let now = 1_764_000_000_000;
    const journal = new Journal({ path: journalPath(), dedupWindowMs: 60_000, now: () => now });
    await journal.accept(reading('wb-1', 1, now));
    const last = journal.readAfter(0, 10).at(-1)!.id;
    journal.advance('store', last);
    await journal.accept(reading('wb-1', 1, now)); // still recognised as a duplicate
    expect(journal.depth('store')).toBe(0);
    now += 120_000;
    journal.advance('store', last);
    // Forgotten on the commit thread, a moment later.
    await vi.waitFor(() => expect(journal.readAfter(0, 10)).toHaveLength(0));
    await journal.close();
  });
});
