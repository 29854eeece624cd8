// The storage alarm turns the data directory's condition into one system alert that rises, and clears
// itself, as the condition changes; and into log lines an operator can grep for.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AlertSignal } from './signals.ts';
import { StorageAlarm, STORAGE_RULE, type StorageCondition } from './storage-alarm.ts';

const MB = 1024 * 1024;

/** The alarm on `condition`, handing its signals to `signal` (kept in `signals` unless given). */
function alarmOn(condition: StorageCondition, signal?: (s: AlertSignal) => void) {
  const signals: AlertSignal[] = [];
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(String((JSON.parse(chunk.toString()) as { msg: string }).msg));
      done();
    },
  });
  const alarm = new StorageAlarm({
    condition: () => condition,
    signal: signal ?? ((s) => signals.push(s)),
    logger: pino(sink),
    everyMs: 60_000,
  });
  return { alarm, signals, logs };
}

describe('storage alarm', () => {
  it('warns before the disk is full, rises to critical when writes fail, and clears when both are fine', () => {
    const condition: StorageCondition = {
      freeBytes: 900 * MB,
      warnBelowBytes: 512 * MB,
      low: false,
      failing: [],
    };
    const { alarm, signals, logs } = alarmOn(condition);
    alarm.check();
    expect(signals).toEqual([]);

    Object.assign(condition, { freeBytes: 100 * MB, low: true });
    alarm.check();
    alarm.check(); // the same condition again: no second signal
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      action: 'raise',
      residentId: 'system',
      ruleId: STORAGE_RULE,
      severity: 'warning',
      autoClear: true,
      summary: 'Anju storage almost full: 100.0 MB free, warning below 512 MB',
    });

    Object.assign(condition, { freeBytes: 0, failing: ['journal', 'presence'] });
    alarm.check();
    expect(signals[1]).toMatchObject({ action: 'raise', severity: 'critical' });
    expect(signals[1]!.summary).toBe('Anju storage failing: journal, presence cannot write (0.0 MB free)');

    Object.assign(condition, { freeBytes: 900 * MB, low: false, failing: [] });
    alarm.check();
    expect(signals[2]).toMatchObject({ action: 'clear', ruleId: STORAGE_RULE, residentId: 'system' });
    expect(logs).toEqual([signals[0]!.summary, signals[1]!.summary, 'storage fine again']);
    alarm.close();
  });

  it('logs a signal the alert service refused instead of throwing', () => {
    const { alarm, logs } = alarmOn(
      { freeBytes: 0, warnBelowBytes: MB, low: true, failing: ['alerts'] },
      () => {
        throw new Error('refused');
      },
    );
    expect(() => alarm.check()).not.toThrow();
    expect(logs).toContain('storage alert not applied');
    alarm.close();
  });
});
