// The inactivity rules against one real home nobody here wrote: a month of the CASAS (WSU) smart home in
// ../shared/casas/, read where it lies (its owners ask that it not be redistributed), replayed through
// validation and every rule, with collapses injected (bench/inactivity-trial.ts). The targets are issue
// 10's; `npm run bench:inactivity` prints the same figures and the trade-off behind the defaults.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRules } from '../alerting/rules/load.ts';
import { AlertSignal } from '../alerting/signals.ts';
import { runTrial, summarise, type TrialResult } from '../bench/inactivity-trial.ts';
import {
  annotatedAbsences,
  CASAS_TIME_ZONE,
  parseCasas,
  readCasasFile,
  type CasasEvent,
} from '../device-sim/casas.ts';

const DATA = path.resolve(import.meta.dirname, '../../shared/casas/al-smarthome-data.txt.gz');
const HOUR = 3_600_000;
const BIN = path.resolve(import.meta.dirname, '../bin/anju.js');
const run = promisify(execFile);

describe('inactivity on a real home (CASAS, 30 days, one person living alone)', () => {
  let events: CasasEvent[];
  let trial: TrialResult;

  beforeAll(() => {
    if (!existsSync(DATA)) throw new Error(`the CASAS data is missing: ${DATA} (../shared/casas/)`);
    events = parseCasas(readCasasFile(DATA));
    trial = runTrial(events, {
      rules: parseRules(`timezone: ${CASAS_TIME_ZONE}`, 'yaml'),
      randomCollapses: 60,
      seed: 1,
      afterReturnS: [30, 120, 600],
    });
  });

  it('reads the month as the annotators marked it: 30 days, 74 absences', () => {
    expect(trial.days).toBeGreaterThan(29.5);
    expect(annotatedAbsences(events)).toHaveLength(74);
  });

  it('raises at most 0.03 false inactivity alarms per resident-day, and no false "not back"', () => {
    expect(trial.falseAlarms.length / trial.days).toBeLessThanOrEqual(0.03);
    expect(trial.falseNotBack).toEqual([]);
  });

  it('detects every collapse at a random waking-hour instant within 24 h: median <= 3 h, at home max <= 4 h', () => {
    const s = summarise(trial);
    expect(s.collapses.random).toMatchObject({ n: 60, detected: 60 });
    expect(s.collapses.random!.medianH!).toBeLessThanOrEqual(3);
    // A collapse just after a door passage looks like going out: the not-back rule finds it, later.
    expect(s.randomAtHome.maxH!).toBeLessThanOrEqual(4);
    for (const c of s.collapsesFoundAsNotBack) expect(c.delayH).toBeLessThanOrEqual(6);
  });

  it('detects a collapse 30 s, 2 min and 10 min after coming home like any other', () => {
    const s = summarise(trial);
    for (const kind of ['return+30s', 'return+120s', 'return+600s']) {
      const c = s.collapses[kind]!;
      expect(c.n, kind).toBeGreaterThanOrEqual(30);
      expect(c.detected, kind).toBe(c.n);
      expect(c.medianH!, kind).toBeLessThanOrEqual(3);
      expect(c.maxH!, kind).toBeLessThanOrEqual(4);
    }
  });

  it('alerts within 2 h of her usual return time when she leaves and does not come back', () => {
    expect(trial.departures.length).toBeGreaterThanOrEqual(30);
    for (const d of trial.departures) {
      const when = `left at ${new Date(d.left).toISOString()}`;
      expect(d.alertAfterMs, when).not.toBeNull();
      // Learned from her own outings after two weeks, not the fixed fallback.
      expect(d.usualMs, when).not.toBeNull();
      // Not before she would usually be back, and within 2 h of it (sooner when night falls).
      expect(d.alertAfterMs!, when).toBeGreaterThan(d.usualMs!);
      expect(d.alertAfterMs! - d.usualMs!, when).toBeLessThanOrEqual(2 * HOUR);
    }
  });
});

describe('anju casas: the recording as traffic for anju replay', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-casas-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes messages that anju replay takes whole, without an inactivity alarm while the month lasts', async () => {
    const converted = await run(process.execPath, [BIN, 'casas', DATA, '--out', dir, '--json']);
    const summary = JSON.parse(converted.stdout) as {
      events: number;
      absences: number;
      messagesFile: string;
    };
    expect(summary).toMatchObject({ events: 31_021, absences: 74 });
    const { stdout, stderr } = await run(
      process.execPath,
      [
        BIN,
        'replay',
        summary.messagesFile,
        '--devices',
        path.join(dir, 'casas.devices.json'),
        '--rules',
        path.join(dir, 'casas.rules.yaml'),
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(stderr).toMatch(/replayed 82675 readings \(0 invalid lines skipped\)/);
    const raised = stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => AlertSignal.parse(JSON.parse(l)))
      .filter(
        (x) => x.action === 'raise' && x.ruleId.startsWith('absence.') && x.ruleId !== 'absence.night_door',
      );
    expect(raised).toEqual([]);
  });

  it('refuses a file that holds no CASAS events with a clear message', async () => {
    const junk = path.join(dir, 'junk.txt');
    writeFileSync(junk, 'not a smart home\n');
    const err = (await run(process.execPath, [BIN, 'casas', junk, '--out', dir]).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(err.code).not.toBe(0);
    expect(err.stderr).toContain('no CASAS sensor events found');
    expect(err.stderr).not.toMatch(/^\s+at /m);
  });
});
