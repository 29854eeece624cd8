import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../registry/test-dir.ts';
import { RuleStateStore, persistEngine } from './engine-state.ts';
import { EngineKit, MIN, at } from './test-kit.ts';

const tempDir = useTempDirs();
const restartAt = at(14, '11:05') + 2000;

/** Two weeks of routine, then a day with a held gas leak, CO building up and a wearable going silent. */
function steps(kit: EngineKit, part: 'before' | 'after'): void {
  const motion = (t: number) => kit.telemetry('E-LIV', t, { motion: true });
  const methane = (t: number) => kit.telemetry('G-1', t, { gas: 'methane', concentration: 30, unit: '%LEL' });
  const co = (t: number) => kit.telemetry('G-1', t, { gas: 'co', concentration: 100, unit: 'ppm' });
  if (part === 'before') {
    for (let day = 0; day < 14; day++) {
      for (let t = at(day, '07:00'); t <= at(day, '22:00'); t += 15 * MIN) motion(t);
    }
    for (let t = at(14, '07:00'); t <= at(14, '10:00'); t += 15 * MIN) motion(t);
    kit.heartbeat('W-1', at(14, '09:00'));
    for (let t = at(14, '11:00'); t <= at(14, '11:04'); t += MIN) co(t);
    methane(at(14, '11:04') + 55_000);
    methane(at(14, '11:05'));
    kit.advanceTo(restartAt);
  } else {
    methane(at(14, '11:05') + 10_000);
    for (let t = at(14, '11:06'); t <= at(14, '11:30'); t += MIN) co(t);
    kit.advanceTo(at(14, '14:00'));
  }
}

describe('rule state across a restart', () => {
  it('gives the same signals with a restart in the middle as without one', () => {
    const straight = new EngineKit();
    steps(straight, 'before');
    steps(straight, 'after');

    const dataDir = tempDir();
    const before = new EngineKit();
    steps(before, 'before');
    const store = RuleStateStore.open(dataDir);
    store.save({ clock: before.engine.now, residents: before.engine.changedResidents() });
    store.close();

    const after = new EngineKit();
    const reopened = RuleStateStore.open(dataDir);
    after.engine.restore(reopened.load()!.snapshot);
    reopened.close();
    expect(after.engine.now).toBe(restartAt);
    steps(after, 'after');

    expect([...before.signals, ...after.signals]).toEqual(straight.signals);
    // The interesting ones straddle the restart: a hold half-way, a dose building, a silent wearable, a
    // routine learned over two weeks.
    const ruleIds = after.signals.filter((s) => s.action === 'raise').map((s) => `${s.ruleId}:${s.severity}`);
    expect(ruleIds).toEqual(
      expect.arrayContaining([
        'gas.methane:alarm',
        'gas.co:alarm',
        'absence.routine:alarm',
        'device.offline:warning',
      ]),
    );
    expect(after.of('absence.routine')).toMatchObject([{ at: at(14, '13:00'), evidence: { learned: true } }]);
  });

  it('snapshots periodically and on close, with the journal position, and resumes from them', async () => {
    const dataDir = tempDir();
    const kit = new EngineKit();
    let position = 41;
    const persistence = persistEngine(kit.engine, RuleStateStore.open(dataDir), {
      everyMs: 20,
      cursor: () => position,
    });
    expect(persistence.restoredCursor).toBeNull();
    kit.telemetry('G-1', at(0, '12:00'), { gas: 'co', concentration: 200, unit: 'ppm' });
    await new Promise((r) => setTimeout(r, 100));
    const db = new Database(path.join(dataDir, 'rules.db'), { readonly: true });
    const rows = db.prepare('SELECT resident_id FROM resident_state').all();
    db.close();
    expect(rows).toEqual([{ resident_id: 'rs_1' }]);

    position = 42;
    kit.telemetry('G-1', at(0, '12:01'), { gas: 'co', concentration: 200, unit: 'ppm' });
    persistence.close();

    const resumed = new EngineKit();
    const again = persistEngine(resumed.engine, RuleStateStore.open(dataDir));
    expect(again.restoredCursor).toBe(42);
    resumed.advanceTo(at(0, '12:10'));
    again.close();
    // 200 ppm alarms after about 4 minutes of dose, built partly before the restart.
    expect(resumed.of('gas.co')).toHaveLength(1);
    expect((resumed.of('gas.co')[0]!.at - at(0, '12:00')) / MIN).toBeCloseTo(4.5, 0);
  });

  it('keeps the changes of a snapshot that could not be written for the next one', () => {
    const dataDir = tempDir();
    // Two residents of one home: a reading of the home's gas sensor changes both.
    const kit = new EngineKit({
      'G-1': { kind: 'gas_sensor', homeId: 'hm_1', room: 'kitchen' },
      'W-1': { kind: 'wearable', residentId: 'rs_1', homeId: 'hm_1' },
      'W-2': { kind: 'wearable', residentId: 'rs_2', homeId: 'hm_1' },
    });
    const persistence = persistEngine(kit.engine, RuleStateStore.open(dataDir), { everyMs: 3_600_000 });
    kit.telemetry('G-1', at(0, '12:00'), { gas: 'co', concentration: 200, unit: 'ppm' });
    // Another connection holds the write lock: the snapshot fails after SQLite's busy timeout.
    const locker = new Database(path.join(dataDir, 'rules.db'));
    locker.exec('BEGIN EXCLUSIVE');
    expect(() => persistence.flush()).toThrow(/locked/);
    locker.exec('ROLLBACK');
    locker.close();

    persistence.flush();
    const db = new Database(path.join(dataDir, 'rules.db'), { readonly: true });
    const rows = db.prepare('SELECT resident_id FROM resident_state ORDER BY resident_id').all();
    db.close();
    persistence.close();
    expect(rows).toEqual([{ resident_id: 'rs_1' }, { resident_id: 'rs_2' }]);
  }, 20_000);

  it('refuses a state file written by another format version', () => {
    const dataDir = tempDir();
    RuleStateStore.open(dataDir).close();
    const db = new Database(path.join(dataDir, 'rules.db'));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'version'").run();
    db.close();
    expect(() => RuleStateStore.open(dataDir)).toThrow(/version 99/);
  });
});
