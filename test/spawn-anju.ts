// Runs `anju serve` as a real child process (the CLI a user runs) on free loopback ports, for tests and
// benchmarks that need to kill it, restart it or measure its memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './harness.ts';
import { freePort } from './influxd.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

export interface AnjuProcess {
  proc: ChildProcess;
  mqttPort: number;
  httpPort: number;
  /** GET /healthz as JSON. */
  health(): Promise<{ status: string; checks: { journal: { detail: { depth: number } } } }>;
  /** Resident and peak resident set size of the server process, in bytes (Linux /proc). */
  memory(): { rss: number; peakRss: number };
  /** Lines the server wrote on standard output (pino JSON at the level asked for). */
  stdout: string[];
  /**
   * Sends a fault-injection message (cli/test-hooks.ts) and resolves with the server's answer; only when
   * spawned with ANJU_TEST_HOOKS=1.
   */
  hook(message: Record<string, unknown>): Promise<Record<string, unknown>>;
  killHard(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `entry` is the script to run: the `anju` launcher, or a bundle built by cli/build.ts. It is ready when
 * /healthz says ok, or with `readyWhenDegraded` when it answers at all (a start on a full disk).
 */
export async function spawnAnju(
  dataDir: string,
  env: Record<string, string> = {},
  entry = path.join(ROOT, 'bin/anju.js'),
  readyWhenDegraded = false,
): Promise<AnjuProcess> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const hooks = env.ANJU_TEST_HOOKS === '1';
  const proc = spawn(process.execPath, [entry, 'serve'], {
    env: {
      ...process.env,
      ANJU_DATA_DIR: dataDir,
      ANJU_HOST: '127.0.0.1',
      ANJU_MQTT_PORT: String(mqttPort),
      ANJU_HTTP_PORT: String(httpPort),
      ANJU_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit', ...(hooks ? (['ipc'] as const) : [])],
  });
  const stdout: string[] = [];
  let partial = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    stdout.push(...lines.filter(Boolean));
  });
  // Whatever way this process ends (an error, Ctrl-C, process.exit), the server does not outlive it.
  const stopWithParent = () => proc.kill('SIGTERM');
  process.once('exit', stopWithParent);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      process.off('exit', stopWithParent);
      resolve();
    }),
  );
  const signal = async (sig: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${url}/healthz`);
        return res.ok || (readyWhenDegraded && res.status === 503);
      },
      30_000,
      100,
    );
  } catch (err) {
    await signal('SIGKILL'); // never became ready: no server left behind
    throw err;
  }
  return {
    proc,
    mqttPort,
    httpPort,
    health: async () => (await (await fetch(`${url}/healthz`)).json()) as never,
    memory: () => {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
      return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
    },
    stdout,
    hook: (message) =>
      new Promise((resolve, reject) => {
        if (!proc.send) return reject(new Error('spawned without ANJU_TEST_HOOKS=1'));
        const onMessage = (reply: Record<string, unknown>) => {
          if (reply.hook !== message.hook) return;
          proc.off('message', onMessage);
          resolve(reply);
        };
        proc.on('message', onMessage);
        proc.send(message);
      }),
    killHard: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
