// Each write path's health as /healthz and /metrics show it: failing from a failed write until the next
// good one (or a quiet minute), the last error kept, one log line per outage, not per failed write.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FAILING_FOR_MS, WriteHealth } from './write-health.ts';

function sqliteFull(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

function setUp() {
  let now = 1_000_000;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  const metrics = new Registry();
  const health = new WriteHealth({ metrics, logger: pino(sink), now: () => now, monotonic: () => now });
  return { health, metrics, logs, advance: (ms: number) => (now += ms), now: () => now };
}

async function metric(metrics: Registry, name: string, part: string): Promise<number | undefined> {
  const found = (await metrics.getSingleMetric(name)!.get()).values.find((v) => v.labels.part === part);
  return found?.value;
}

describe('write health', () => {
  it('says which path fails, with its last error, until it writes again', async () => {
    const { health, metrics, logs, now } = setUp();
    const presence = health.reporter('presence');
    const changes: string[][] = [];
    health.onChange(() => changes.push(health.failing()));
    for (let i = 0; i < 100; i++) {
      presence.failed(sqliteFull());
      presence.dropped();
    }
    expect(health.failing()).toEqual(['presence']);
    expect(health.status().presence).toEqual({
      failing: true,
      errors: 100,
      dropped: 100,
      lastError: { message: 'database or disk is full', code: 'SQLITE_FULL', at: now() },
    });
    expect(await metric(metrics, 'anju_storage_write_failing', 'presence')).toBe(1);
    expect(await metric(metrics, 'anju_storage_write_failing', 'journal')).toBe(0);
    expect(await metric(metrics, 'anju_storage_write_errors_total', 'presence')).toBe(100);
    expect(await metric(metrics, 'anju_storage_writes_dropped_total', 'presence')).toBe(100);

    presence.succeeded();
    expect(health.failing()).toEqual([]);
    expect(health.status().presence.lastError?.code).toBe('SQLITE_FULL'); // the last error stays to read
    expect(await metric(metrics, 'anju_storage_write_failing', 'presence')).toBe(0);
    expect(changes).toEqual([['presence'], []]);
    expect(logs).toEqual(['storage write failing', 'storage write recovered']);
  });

  it('stops counting a path as failing a minute after its last failure, a session touch after 10 s', () => {
    const { health, advance, logs } = setUp();
    const snapshots = health.reporter('rule_state');
    snapshots.failed(sqliteFull());
    health.reporter('sessions').failed(sqliteFull());
    advance(10_000);
    expect(health.failing()).toEqual(['rule_state']);
    advance(FAILING_FOR_MS - 10_001);
    expect(health.failing()).toEqual(['rule_state']);
    advance(1);
    expect(health.failing()).toEqual([]);
    snapshots.failed(sqliteFull()); // a new outage is a new log line
    expect(health.failing()).toEqual(['rule_state']);
    expect(logs).toEqual(['storage write failing', 'storage write failing', 'storage write failing']);
  });
});
