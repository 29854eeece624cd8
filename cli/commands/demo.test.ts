// `anju demo` (what `npm start` runs) as a subprocess on free ports: it starts, says where to look, readings
// reach the API, Ctrl-C stops it cleanly, and a restart carries on with the same devices.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/harness.ts';
import { freePort } from '../../test/influxd.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'anju.js');
const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-demo-'));
const running: ChildProcess[] = [];
let firstToken = '';

afterAll(() => {
  for (const proc of running) if (proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startDemo() {
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const proc = spawn(
    process.execPath,
    [BIN, 'demo', '--data-dir', dataDir, '--residents', '2', '--history', '10m'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ANJU_HTTP_PORT: String(httpPort),
        ANJU_MQTT_PORT: String(mqttPort),
        ANJU_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await waitFor(() => stdout.includes('Press Ctrl-C to stop.') || proc.exitCode !== null, 20_000, 50);
  if (proc.exitCode !== null) throw new Error(`demo exited early:\n${stdout}\n${stderr}`);
  return { proc, httpPort, mqttPort, stdout: () => stdout, stderr: () => stderr, exited };
}

describe('anju demo', () => {
  it('starts, prints where to look, and the API sees readings arriving; Ctrl-C stops it', async () => {
    const demo = await startDemo();
    const banner = demo.stdout();
    expect(banner).toContain(`Dashboard    http://127.0.0.1:${demo.httpPort}/`);
    expect(banner).toContain(`mqtt://127.0.0.1:${demo.mqttPort}  (2 residents, `);
    // Every printed login works.
    const logins = [...banner.matchAll(/^ {4}(admin|staff|family) +(\S+) \/ (\S+)/gm)];
    expect(logins.map((m) => m[1])).toEqual(['admin', 'staff', 'family']);
    for (const [, , username, password] of logins) {
      const res = await fetch(`http://127.0.0.1:${demo.httpPort}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(res.status, `login ${username}`).toBe(200);
    }
    expect(banner).toMatch(/resident-1 +SOS button|resident-2 +gas leak/);
    const token = /API token {4}(anju_\S+)/.exec(banner)![1]!;
    firstToken = token;

    const latest = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${demo.httpPort}/api/v1/devices/demo-001-wearable/latest`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as { latest?: { field: string; ts: number }[] };
        return res.ok && (body.latest?.length ?? 0) > 0 && body.latest!;
      },
      15_000,
      200,
    );
    // Telemetry always says whether the band is worn; heart rate only while it is (not while it charges,
    // the hour before the resident's bedtime, which this test may run in).
    expect(latest.map((l) => l.field)).toContain('worn');
    expect(Math.max(...latest.map((l) => l.ts))).toBeGreaterThan(Date.now() - 11 * 60_000);

    demo.proc.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.stderr()).toContain('stopping the demo');
  });

  it('restarts with the devices it registered before, under a fresh API token', async () => {
    const credentials = readFileSync(path.join(dataDir, 'demo-credentials.json'), 'utf8');
    const demo = await startDemo();
    expect(readFileSync(path.join(dataDir, 'demo-credentials.json'), 'utf8')).toBe(credentials);
    const devices = (JSON.parse(credentials) as { devices: unknown[] }).devices.length;
    expect(demo.stdout()).toContain(`(2 residents, ${devices} devices)`);
    const token = /API token {4}(anju_\S+)/.exec(demo.stdout())![1]!;
    const status = async (bearer: string) =>
      (
        await fetch(`http://127.0.0.1:${demo.httpPort}/api/v1/devices/demo-001-wearable/latest`, {
          headers: { authorization: `Bearer ${bearer}` },
        })
      ).status;
    expect(await status(token)).toBe(200);
    expect(await status(firstToken)).toBe(401);
    demo.proc.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});
