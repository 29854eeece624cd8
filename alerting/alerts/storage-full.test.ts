// A full disk under the alert store: SQLite's own SQLITE_FULL, made by capping the file's page count
// (PRAGMA max_page_count) on the service's connection. Alerts must still reach the consoles, be stored
// in order once space returns, under the id the consoles were shown, and never reject out of apply().
import type { SqliteDatabase } from '../../database/sqlite.ts';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import type { AlertChange } from './schemas.ts';
import { AlertService } from './service.ts';
import { clear, raise, settableClock, T0 } from './test-support.ts';

const tempDir = useTempDirs();

function reporter() {
  const seen: string[] = [];
  return {
    seen,
    failed: (err: unknown) => seen.push(`failed ${(err as { code?: string }).code}`),
    succeeded: () => seen.push('succeeded'),
    dropped: () => seen.push('dropped'),
  };
}

describe('alerts while storage is full', () => {
  it('shows alerts to the consoles at once and stores them, in order and under the same ids, once space returns', async () => {
    const writes = reporter();
    const service = await AlertService.open({
      dataDir: tempDir(),
      clock: settableClock(),
      writes,
      retryEveryMs: 10,
    });
    const changes: AlertChange[] = [];
    service.onChange((c) => changes.push(c));
    // The service's own connection: the cap applies to it alone.
    const db = (service as unknown as { db: SqliteDatabase }).db.connection;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);

    // Residents until the file would have to grow: from then on every alert waits in memory.
    let resident = 0;
    while (service.pendingWrites() === 0 && resident < 5000) {
      resident += 1;
      expect(await service.apply(raise({ residentId: `rs_${resident}`, at: T0 + resident }))).toBeDefined();
    }
    expect(service.pendingWrites()).toBe(1);
    const firstWaiting = `rs_${resident}`;
    // A repeat of the waiting one and a new alert: both shown, both waiting.
    const repeat = (await service.apply(
      raise({ residentId: firstWaiting, severity: 'critical', at: T0 + 9000 }),
    ))!;
    const other = (await service.apply(raise({ residentId: 'rs_after', at: T0 + 9001 })))!;
    expect(service.pendingWrites()).toBe(3);
    const shown = changes.filter((c) => c.audit.details.stored === false);
    expect(shown.map((c) => [c.type, c.alert.residentId])).toEqual([
      ['new', firstWaiting],
      ['update', firstWaiting],
      ['new', 'rs_after'],
    ]);
    expect(repeat.alert).toMatchObject({ id: shown[0]!.alert.id, severity: 'critical', repeatCount: 1 });
    // Listed (a console that connects now sees them), though not stored yet.
    expect(await service.list({ residentIds: [firstWaiting] })).toEqual([repeat.alert]);
    expect(await service.history(repeat.alert.id)).toEqual([]);
    // Searched and paged like stored ones: a console searching or paging meanwhile misses none of them.
    const search = { residentIds: [firstWaiting], deviceId: 'no-such-device' };
    expect(await service.list({ matching: search })).toEqual([repeat.alert]);
    expect((await service.list({ severity: 'critical' })).map((a) => a.id)).toEqual([repeat.alert.id]);
    const everything = (await service.list({ limit: 5000 })).map((a) => a.id);
    const firstPage = await service.list({ limit: 2 });
    const rest = await service.list({ limit: 5000, after: firstPage.at(-1) });
    expect([...firstPage.map((a) => a.id), ...rest.map((a) => a.id)]).toEqual(everything);
    expect(everything).toEqual(expect.arrayContaining([repeat.alert.id, other.alert.id]));
    expect(writes.seen).toContain('failed SQLITE_FULL');

    // Space returns: the retry timer stores them, under the ids the consoles saw.
    db.pragma('max_page_count = 1073741823');
    await expect.poll(() => service.pendingWrites(), { timeout: 2000, interval: 10 }).toBe(0);
    const stored = await service.list({ residentIds: [firstWaiting] });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: shown[0]!.alert.id, severity: 'critical', repeatCount: 1 });
    expect((await service.history(stored[0]!.id)).map((e) => e.action)).toEqual([
      'opened',
      'severity_raised',
    ]);
    expect((await service.list({ residentIds: ['rs_after'] }))[0]!.id).toBe(other.alert.id);
    expect(writes.seen.at(-1)).toBe('succeeded');
    await service.close();
  });

  it('stores a raise, a clear that resolves it and a new raise as two incidents, as the consoles saw them', async () => {
    const service = await AlertService.open({ dataDir: tempDir(), clock: settableClock(), retryEveryMs: 10 });
    const db = (service as unknown as { db: SqliteDatabase }).db.connection;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    let resident = 0;
    while (service.pendingWrites() === 0) {
      resident += 1;
      await service.apply(raise({ residentId: `rs_${resident}`, autoClear: true, at: T0 + resident }));
    }
    const key = { residentId: `rs_${resident}`, autoClear: true };
    const first = (await service.list({ residentIds: [key.residentId] }))[0]!;
    expect(await service.apply(clear({ ...key, at: T0 + 8000 }))).toBeUndefined();
    const second = (await service.apply(raise({ ...key, at: T0 + 9000 })))!;
    expect(second.type).toBe('new');
    expect(second.alert.id).not.toBe(first.id);

    db.pragma('max_page_count = 1073741823');
    await expect.poll(() => service.pendingWrites(), { timeout: 2000, interval: 10 }).toBe(0);
    const stored = await service.list({ residentIds: [key.residentId] });
    expect(new Map(stored.map((a) => [a.id, a.state]))).toEqual(
      new Map([
        [second.alert.id, 'open'],
        [first.id, 'resolved'],
      ]),
    );
    await service.close();
  });
});
