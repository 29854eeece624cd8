// Starts a real InfluxDB 1.x server (`influxd`, Debian package `influxdb`) for tests: its own temporary
// directory, loopback-only HTTP and RPC ports, no reporting, quiet logs. `stop()` and `start()` reuse the
// same directory and ports, so a test can take the store away for a while and bring it back with its data.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

export interface Influxd {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:40123 */
  url: string;
  dir: string;
  /** Starts the server again on the same directory and ports after `stop()`. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. The data stays. */
  stop(): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
  /**
   * Sends a signal to the server: SIGKILL (resolves once it is gone; `start()` brings it back), SIGSTOP
   * and SIGCONT (it freezes and thaws with its connections open).
   */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 4_096;

/** A port that was free a moment ago: listen on port 0, note the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configText(dir: string, httpPort: number, rpcPort: number): string {
  // Every directory lives under `dir`; every listener is on loopback. The monitor's _internal database and
  // the query log are off, because tests do not read them and they cost CPU on a two-core CI machine.
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${path.join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${path.join(dir, 'data')}"
  wal-dir = "${path.join(dir, 'wal')}"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true

[continuous_queries]
  enabled = false
`;
}

/** True once the server at `url` answers /ping and says it is process `pid` (not a neighbour on that port). */
async function answersAs(url: string, pid: number): Promise<boolean> {
  try {
    const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
    if (ping.status !== 204) return false;
    const q = new URLSearchParams({ q: "SHOW DIAGNOSTICS FOR 'system'" });
    const res = await fetch(`${url}/query?${q}`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as {
      results?: { series?: { columns: string[]; values: unknown[][] }[] }[];
    };
    const system = body.results?.[0]?.series?.[0];
    return system?.values[0]?.[system.columns.indexOf('PID')] === pid;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

class PortTakenError extends Error {}

interface Server {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
}

function server(dir: string, httpPort: number, rpcPort: number): Server {
  const configPath = path.join(dir, 'influxdb.conf');
  writeFileSync(configPath, configText(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;
  const binary = process.env.INFLUXD ?? 'influxd';
  // INFLUXDB_* variables would override the config file; the test server must not inherit any.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child) throw new Error('influxd is already running');
    let stderr = '';
    const proc = spawn(binary, ['run', '-config', configPath], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', reject);
      proc.once('exit', (code, signal) => {
        const message = `influxd exited (code ${code}, signal ${signal}) before it was ready:\n${stderr}`;
        reject(/address already in use/.test(stderr) ? new PortTakenError(message) : new Error(message));
      });
    });
    failed.catch(() => {});
    const deadline = Date.now() + READY_TIMEOUT_MS;
    try {
      while (!(await Promise.race([answersAs(url, proc.pid!), failed]))) {
        if (Date.now() > deadline)
          throw new Error(`influxd did not answer ${url} within ${READY_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (err) {
      await stop();
      throw err;
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    child = undefined;
    const gone = exited(proc);
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }

  async function signal(sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const proc = child;
    if (!proc) return;
    if (sig !== 'SIGKILL') {
      proc.kill(sig);
      return;
    }
    child = undefined;
    const gone = exited(proc);
    proc.kill('SIGKILL');
    await gone;
  }

  return { url, start, stop, signal };
}

// A free port can be taken by another process before influxd binds it; then try other ports.
const PORT_ATTEMPTS = 3;

export async function startInfluxd(): Promise<Influxd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-influxd-'));
  for (let attempt = 1; ; attempt += 1) {
    const instance = server(dir, await freePort(), await freePort());
    try {
      await instance.start();
      return {
        url: instance.url,
        dir,
        start: instance.start,
        stop: instance.stop,
        signal: instance.signal,
        destroy: async () => {
          await instance.signal('SIGCONT'); // a stopped process does not act on SIGTERM
          await instance.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (err instanceof PortTakenError && attempt < PORT_ATTEMPTS) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

/**
 * The test run's shared influxd (test/influxd-global.ts): for tests that only need a working server and
 * use databases of their own names. A test that stops or kills the server starts its own.
 */
export function sharedInfluxdUrl(): string {
  return inject('influxdUrl');
}
