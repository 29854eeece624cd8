// `anju sim` as people and scripts run it: a subprocess, against a real Anju where it needs one.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAnju, type TestAnju } from '../../test/harness.ts';
import { spawnAnju } from '../test-cli.ts';

const anju = (...args: string[]) => spawnAnju(args);

let server: TestAnju;
const dir = mkdtempSync(path.join(tmpdir(), 'anju-sim-cli-'));
beforeAll(async () => {
  server = await startTestAnju({ logLevel: 'warn' });
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('anju sim', () => {
  it('writes the same JSONL for the same seed, and a devices file for anju replay', async () => {
    const run = (seed: string, out: string) =>
      anju(
        'sim',
        '--seed',
        seed,
        '--residents',
        '2',
        '--start',
        '2026-01-12T00:00:00+08:00',
        '--duration',
        '6h',
        '--out',
        path.join(dir, out),
        '--json',
        '--scenario',
        'sos@resident-2@03:00',
      );
    const [a, b, c] = await Promise.all([run('3', 'a.jsonl'), run('3', 'b.jsonl'), run('4', 'c.jsonl')]);
    expect(a.code, a.stderr).toBe(0);
    const first = readFileSync(path.join(dir, 'a.jsonl'), 'utf8');
    expect(readFileSync(path.join(dir, 'b.jsonl'), 'utf8')).toBe(first);
    expect(readFileSync(path.join(dir, 'c.jsonl'), 'utf8')).not.toBe(first);
    expect(c.code).toBe(0);
    const lines = first.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      topic: 'anju/v1/sim-001-wearable/status',
      payload: { state: 'online', ts: Date.parse('2026-01-12T00:00:00+08:00') },
    });
    expect(lines.filter((l) => l.includes('"type":"sos"'))).toHaveLength(1);
    const summary = JSON.parse(a.stdout) as { mode: string; sent: number; scenarios: unknown[] };
    expect(summary).toMatchObject({
      mode: 'jsonl',
      sent: lines.length,
      scenarios: [{ kind: 'sos', target: 'resident-2', at: '2026-01-11T19:00:00.000Z' }],
    });
    const devices = JSON.parse(readFileSync(path.join(dir, 'a.devices.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(devices['sim-001-wearable']).toEqual({
      kind: 'wearable',
      residentId: 'resident-1',
      homeId: 'home-1',
    });
    expect(devices['sim-002-kitchen']).toEqual({ kind: 'env_monitor', homeId: 'home-2', room: 'kitchen' });
    expect(b.code).toBe(0);
  });

  it('plays a seeded day of emergencies that `anju replay` turns into exactly the expected alerts, and nothing else', async () => {
    const out = path.join(dir, 'emergencies.jsonl');
    const scenarios = [
      'cold_home@resident-3@+0m,for=12h',
      'night_wandering@resident-2@02:30',
      'battery_dead@resident-1:bedroom@05:00',
      'not_worn@resident-1@09:00,for=4h',
      'sos@resident-1@10:00',
      'co_ramp@resident-2@12:00',
      'gas_leak@resident-2@15:00',
      'fall@resident-3@16:00',
      'fall@resident-1@17:00,cancelled=true',
    ].flatMap((s) => ['--scenario', s]);
    const sim = await anju(
      'sim',
      '--seed',
      '1',
      '--residents',
      '3',
      '--start',
      '2026-01-12T00:00:00+08:00',
      '--duration',
      '1d',
      '--out',
      out,
      ...scenarios,
    );
    expect(sim.code, sim.stderr).toBe(0);
    const replay = await anju('replay', out, '--devices', out.replace('.jsonl', '.devices.json'), '--quiet');
    expect(replay.code, replay.stderr).toBe(0);
    const signals = replay.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { action: string; residentId: string; ruleId: string; severity: string },
      )
      .map((s) => `${s.action} ${s.residentId} ${s.ruleId} ${s.severity}`);
    expect(signals).toEqual([
      'raise resident-3 climate.cold warning', // entrance, bedroom, kitchen, bathroom as each falls below 18 C
      'raise resident-3 climate.cold warning',
      'raise resident-3 climate.cold warning',
      'raise resident-3 climate.cold warning',
      'raise resident-2 absence.night_door warning', // out at 02:30
      'raise resident-2 absence.night_door warning', // back at 02:50
      'raise resident-1 device.battery warning',
      'raise resident-1 device.offline warning', // the battery died
      'raise resident-1 event.sos critical',
      'raise resident-1 device.not_worn warning',
      'raise resident-2 gas.co alarm',
      'clear resident-1 device.not_worn warning',
      // Asleep after lunch from 12:31 with the CO still at alarm: nobody has moved for 30 min.
      'raise resident-2 gas.co critical',
      'clear resident-3 climate.cold warning', // heating back
      'raise resident-2 gas.methane warning',
      'raise resident-2 gas.methane alarm',
      'raise resident-2 gas.methane critical',
      'clear resident-2 gas.co critical',
      'clear resident-2 gas.methane critical',
      'raise resident-3 event.fall alarm',
      'raise resident-3 event.fall critical', // still on the floor 5 min later
      'raise resident-1 event.fall_cancelled info',
    ]);
  });

  it('registers its devices in the registry once, then plays an accelerated past with every message acknowledged', async () => {
    const args = [
      'sim',
      '--data-dir',
      server.dataDir,
      '--url',
      `mqtt://127.0.0.1:${server.ports.mqtt}`,
      '--residents',
      '1',
      '--id-prefix',
      'cli',
    ];
    const first = await anju(
      ...args,
      '--start',
      '-30m',
      '--duration',
      '30m',
      '--speed',
      'max',
      '--json',
      '--scenario',
      'sos@resident-1@+5m',
    );
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/registering 7 simulated devices/);
    const summary = JSON.parse(first.stdout) as {
      sent: number;
      acked: number;
      unsent: number;
      byChannel: Record<string, number>;
    };
    expect(summary.sent).toBeGreaterThan(100);
    expect(summary).toMatchObject({ acked: summary.sent, unsent: 0 });
    expect(summary.byChannel.event).toBeGreaterThanOrEqual(1);
    expect(existsSync(path.join(server.dataDir, 'sim-credentials.json'))).toBe(true);
    expect((await server.registry.listDevices()).filter((d) => d.id.startsWith('cli-'))).toHaveLength(7);

    const again = await anju(...args, '--start', '-10m', '--duration', '10m', '--speed', '600', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/registering/);
    expect(JSON.parse(again.stdout)).toMatchObject({ connectRefused: {}, unsent: 0 });
  });

  it('drives many devices at a set rate in load mode and reports what it achieved', async () => {
    const run = await anju(
      'sim',
      '--load',
      '--data-dir',
      server.dataDir,
      '--url',
      `mqtt://127.0.0.1:${server.ports.mqtt}`,
      '--devices',
      '20',
      '--rate',
      '500',
      '--duration',
      '3s',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      devices: number;
      achievedPerSecond: number;
      acked: number;
      sent: number;
      failed: number;
      latencyMs: { p50: number; p99: number };
    };
    expect(result).toMatchObject({ devices: 20, acked: result.sent, failed: 0 });
    expect(result.sent).toBeGreaterThanOrEqual(1500);
    // What it achieved is reported, and never beyond the set rate; how close it comes depends on the
    // machine's load, which a benchmark measures, not this test.
    expect(result.achievedPerSecond).toBeGreaterThan(0);
    expect(result.achievedPerSecond).toBeLessThanOrEqual(500 * 1.05);
    expect(result.latencyMs.p50).toBeLessThanOrEqual(result.latencyMs.p99);
  });

  it('explains what it needs when there are no credentials and no registry', async () => {
    const run = await anju('sim', '--data-dir', path.join(dir, 'nowhere'), '--duration', '1m');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no credentials in .*sim-credentials\.json, and there is no Anju registry/);
    const bad = await anju('sim', '--out', path.join(dir, 'x.jsonl'), '--scenario', 'sos@resident-99@+1m');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no resident or device "resident-99"/);
  });
});
