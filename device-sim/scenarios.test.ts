// How people write scenarios, on the command line and in files, and the answers they get when they are wrong.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCommunity } from './community.ts';
import { loadScenarioFile, parseScenarioSpec, resolveScenarios } from './scenarios.ts';
import { DAY, HOUR, MINUTE, parseDuration, parseStart } from './time.ts';

const START = Date.parse('2026-01-12T09:00:00+08:00');
const dir = mkdtempSync(path.join(tmpdir(), 'anju-scenarios-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scenario specs on the command line', () => {
  it('reads KIND@TARGET@WHEN with typed key=value parameters and fills in the defaults', () => {
    expect(parseScenarioSpec('sos@resident-3@+10m')).toEqual({
      kind: 'sos',
      target: 'resident-3',
      at: '+10m',
    });
    expect(parseScenarioSpec('fall@resident-2@07:45,cancelled=true')).toEqual({
      kind: 'fall',
      target: 'resident-2',
      at: '07:45',
      cancelled: true,
      for: HOUR,
    });
    expect(parseScenarioSpec('gas_leak@resident-4@+3m,peak=40,ramp=5m')).toMatchObject({
      peak: 40,
      ramp: 5 * MINUTE,
      hold: 15 * MINUTE,
    });
    expect(parseScenarioSpec('clock_skew@resident-1:wearable@+1m,skew=+2h')).toMatchObject({
      skew: 2 * HOUR,
      for: 10 * MINUTE,
    });
  });

  it('says what is wrong with a spec', () => {
    expect(() => parseScenarioSpec('sos@resident-3')).toThrow(/expected KIND@TARGET@WHEN/);
    expect(() => parseScenarioSpec('earthquake@resident-3@+1m')).toThrow(
      /unknown kind "earthquake"; known: sos, fall/,
    );
    expect(() => parseScenarioSpec('sos@resident-3@soon')).toThrow(/at: use \+10m/);
    expect(() => parseScenarioSpec('gas_leak@resident-3@+1m,peak=400')).toThrow(/peak/);
    expect(() => parseScenarioSpec('gas_leak@resident-3@+1m,ramp=fast')).toThrow(/not a duration/);
    expect(() => parseScenarioSpec('sos@resident-3@+1m,colour=red')).toThrow(/colour/);
  });
});

describe('scenario files', () => {
  it('reads YAML and JSON, as a list or under `scenarios`', () => {
    const yamlFile = path.join(dir, 'day.yaml');
    writeFileSync(
      yamlFile,
      'scenarios:\n  - { kind: sos, target: resident-3, at: +10m }\n  - kind: heat_wave\n    target: all\n    at: "14:00"\n    peak: 38\n',
    );
    expect(loadScenarioFile(yamlFile)).toEqual([
      { kind: 'sos', target: 'resident-3', at: '+10m' },
      { kind: 'heat_wave', target: 'all', at: '14:00', peak: 38, for: 2 * DAY },
    ]);
    const jsonFile = path.join(dir, 'faults.json');
    writeFileSync(
      jsonFile,
      JSON.stringify([{ kind: 'malformed', target: 'resident-1', at: '+1m', count: 3, variant: 'range' }]),
    );
    expect(loadScenarioFile(jsonFile)).toEqual([
      { kind: 'malformed', target: 'resident-1', at: '+1m', count: 3, variant: 'range' },
    ]);
  });

  it('names the file and the field that is wrong', () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, '- { kind: fall, target: resident-1, at: +1m, cancelled: perhaps }\n');
    expect(() => loadScenarioFile(bad)).toThrow(/bad\.yaml: 0\.cancelled/);
  });
});

describe('scenario targets and times', () => {
  const community = buildCommunity({ seed: 1, residents: 5 });

  it('binds a resident, a role or a device id, and resolves relative, clock and ISO times', () => {
    const [sos, offline, byId, wave] = resolveScenarios(
      community,
      [
        'sos@resident-2@+10m',
        'device_offline@resident-2:water@08:30',
        'duplicates@sim-004-kitchen@2026-01-12T12:00:00+08:00',
        'heat_wave@all@10:00',
      ].map(parseScenarioSpec),
      START,
    );
    expect(sos).toMatchObject({ at: START + 10 * MINUTE, residents: [{ key: 'resident-2' }] });
    expect(sos!.device).toBeUndefined();
    expect(offline).toMatchObject({ at: START + 23.5 * HOUR, device: { id: 'sim-002-water' } }); // 08:30 tomorrow
    expect(byId).toMatchObject({ at: START + 3 * HOUR, device: { id: 'sim-004-kitchen' } });
    expect(wave!.residents).toHaveLength(5);
    expect(wave!.at).toBe(START + HOUR);
  });

  it('refuses targets that cannot work', () => {
    const resolve = (spec: string) => resolveScenarios(community, [parseScenarioSpec(spec)], START);
    expect(() => resolve('sos@resident-9@+1m')).toThrow(
      /no resident or device "resident-9" \(residents are resident-1 \.\. resident-5\)/,
    );
    expect(() => resolve('sos@all@+1m')).toThrow(/only for heat_wave and cold_home/);
    expect(() => resolve('sos@resident-1:gas@+1m')).toThrow(/happens to a resident/);
    expect(() => resolve('battery_dead@resident-1:gas@+1m')).toThrow(/mains-powered/);
    expect(() => resolve('burst@resident-1:fridge@+1m')).toThrow(/unknown device role "fridge"/);
  });

  it('reads durations and start times as people type them', () => {
    expect(parseDuration('1h30m')).toBe(90 * MINUTE);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseStart('-2d', START)).toBe(START - 2 * DAY);
    expect(parseStart('now', START)).toBe(START);
    expect(parseStart('2026-01-10T00:00:00Z', START)).toBe(Date.UTC(2026, 0, 10));
    expect(() => parseDuration('10 minutes')).toThrow(/not a duration/);
    expect(() => parseStart('yesterday', START)).toThrow(/not a start time/);
  });
});
