import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuleFileError, deepMerge, loadRules, parseRules } from './load.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-rules-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function refusal(fn: () => unknown): RuleFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleFileError) return err;
    throw err;
  }
  throw new Error('expected the rules to be refused');
}

describe('rules are data', () => {
  it("ships defaults with DOMAIN.md's numbers", () => {
    const rules = loadRules().community;
    expect(rules.gas.methane).toMatchObject({ warning: 10, alarm: 25, critical: 50, holdS: 10 });
    expect(rules.climate.cold.below).toBe(18);
    expect(rules.climate.hot).toMatchObject({
      dayAbove: 32,
      nightAbove: 24,
      night: { from: 22 * 60, to: 6 * 60 },
    });
    expect(rules.absence.routine.fallbackH).toBe(12);
    expect(rules.absence.water).toMatchObject({ windowH: 12, minLitres: 10 });
    expect(rules.device.battery.belowPct).toBe(15);
    expect(rules.timezone).toBe('Asia/Shanghai');
  });

  it('merges a community file over the defaults and a resident override over the community', () => {
    const set = parseRules(
      `
gas:
  methane: { alarm: 20 }
residents:
  rs_9:
    gas:
      methane: { holdS: 5 }
    timezone: Europe/Berlin
`,
      'yaml',
    );
    expect(set.community.gas.methane).toMatchObject({ warning: 10, alarm: 20, holdS: 10 });
    expect(set.forResident('rs_9').gas.methane).toMatchObject({ warning: 10, alarm: 20, holdS: 5 });
    expect(set.forResident('rs_9').timezone).toBe('Europe/Berlin');
    expect(set.forResident('rs_other')).toBe(set.community);
  });

  it('reads JSON as well as YAML, by extension', () => {
    const file = path.join(tempDir(), 'rules.json');
    writeFileSync(file, JSON.stringify({ co: { alarmDose: 700 } }));
    expect(loadRules(file).community.co.alarmDose).toBe(700);
  });

  it('refuses an invalid file with every problem and its path', () => {
    const err = refusal(() =>
      parseRules(
        `
gas:
  methane: { warning: 30, alarm: 25 }
  lpg: { holdSeconds: 5 }
climate:
  hot: { night: { from: '25:00', to: '06:00' } }
timezone: Mars/Olympus
residents:
  rs_1:
    device: { battery: { belowPct: -1 } }
`,
        'yaml',
        'community.yaml',
      ),
    );
    const paths = err.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'gas.methane',
        'gas.lpg',
        'climate.hot.night.from',
        'timezone',
        'residents.rs_1.device.battery.belowPct',
      ]),
    );
    expect(err.message).toContain('invalid rules in community.yaml');
    expect(err.message).toContain('timezone: unknown IANA time zone');
    // The resident inherits the community's problems; only their own are listed under their name.
    expect(paths.filter((p) => p.startsWith('residents.'))).toEqual([
      'residents.rs_1.device.battery.belowPct',
    ]);
  });

  it('refuses a file that is not YAML, or not a mapping', () => {
    expect(refusal(() => parseRules('gas: [unclosed', 'yaml')).issues).toHaveLength(1);
    expect(refusal(() => parseRules('- a list', 'yaml')).issues[0]!.message).toMatch(/mapping/);
    expect(refusal(() => loadRules(path.join(tempDir(), 'missing.yaml'))).message).toMatch(/ENOENT/);
  });

  it('deep-merges objects and replaces everything else', () => {
    expect(deepMerge({ a: { b: 1, c: 2 }, d: [1, 2] }, { a: { c: 3 }, d: [9] })).toEqual({
      a: { b: 1, c: 3 },
      d: [9],
    });
  });
});
