import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../engine.ts';
import { Replayer } from '../replay.ts';
import { devicesFileContext, loadDevicesFile } from '../resident-context.ts';
import { AlertSignal } from '../signals.ts';
import { DEVICES, SCENARIOS, SCENARIO_DIR, scenarioText, type Scenario } from './generate.ts';

function replay(s: Scenario): AlertSignal[] {
  const context = devicesFileContext(DEVICES);
  const engine = new RuleEngine({ context });
  const signals: AlertSignal[] = [];
  engine.onSignal((signal) => signals.push(signal));
  const replayer = new Replayer(engine, context, (line, reason) => {
    throw new Error(`${s.name}.jsonl:${line}: ${reason}`);
  });
  readFileSync(path.join(SCENARIO_DIR, `${s.name}.jsonl`), 'utf8')
    .split('\n')
    .forEach((text, i) => replayer.line(text, i + 1));
  replayer.finish(s.advanceMin * 60_000);
  return signals;
}

const time = (ts: number) => new Date(ts + 8 * 3_600_000).toISOString().slice(11, 19);

describe('replay scenarios from DOMAIN.md', () => {
  it('are up to date with generate.ts', () => {
    expect(loadDevicesFile(path.join(SCENARIO_DIR, 'devices.json'))).toEqual(DEVICES);
    for (const s of SCENARIOS) {
      expect(readFileSync(path.join(SCENARIO_DIR, `${s.name}.jsonl`), 'utf8'), `${s.name}.jsonl`).toBe(
        scenarioText(s),
      );
    }
  });

  for (const s of SCENARIOS) {
    const verdict =
      s.alerts.length === 0 ? 'must not alert' : `must alert: ${s.alerts.map((a) => a.ruleId).join(', ')}`;
    it(`${s.name} (${verdict}): ${s.about}`, () => {
      const raised = replay(s).filter((x) => x.action === 'raise' && x.severity !== 'info');
      for (const want of s.alerts) {
        const hit = raised.find((x) => x.ruleId === want.ruleId && x.severity === want.severity);
        expect(hit, `${want.ruleId} ${want.severity}`).toBeDefined();
        expect(hit!.at, `${want.ruleId} ${want.severity} at ${time(hit!.at)}`).toBeGreaterThanOrEqual(
          want.from,
        );
        expect(hit!.at, `${want.ruleId} ${want.severity} at ${time(hit!.at)}`).toBeLessThanOrEqual(want.by);
      }
      const unexpected = raised.filter(
        (x) => !s.alerts.some((a) => a.ruleId === x.ruleId && a.severity === x.severity),
      );
      expect(unexpected.map((x) => `${time(x.at)} ${x.ruleId} ${x.severity}: ${x.summary}`)).toEqual([]);
    });
  }

  it('anju replay prints every signal of a scenario as a JSON line', async () => {
    const root = path.join(SCENARIO_DIR, '..', '..');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      path.join(root, 'bin', 'anju.js'),
      'replay',
      path.join(SCENARIO_DIR, 'fall-not-cancelled.jsonl'),
      '--devices',
      path.join(SCENARIO_DIR, 'devices.json'),
    ]);
    const signals = stdout
      .trim()
      .split('\n')
      .map((l) => AlertSignal.parse(JSON.parse(l)));
    expect(signals.map((x) => `${x.ruleId}:${x.severity}`)).toEqual([
      'event.fall:alarm',
      'event.fall:critical',
    ]);
    expect(stderr).toMatch(/replayed \d+ readings \(0 invalid lines skipped\) in \d+ ms: 2 signals/);
  });
});
