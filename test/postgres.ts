// Starts a real PostgreSQL server (Debian package `postgresql`) for tests: `initdb` in its own temporary
// directory, a free loopback port, a Unix socket in that directory, trust authentication for loopback
// only. PostgreSQL refuses to run as root, so when the tests run as root the server runs as a system
// user made for it (`anju-pg`). `stop()` ends it and deletes the directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { aroundTests } from './around-tests.ts';
import { freePort } from './influxd.ts';

export interface PostgresServer {
  /** URL of the `postgres` maintenance database, as the superuser `anju`. */
  url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** SIGKILL: the server is gone at once, as on a crash. */
  kill(): Promise<void>;
  /** A fast shutdown (clients cut off), then the server again on the same data and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const SERVER_USER = 'anju-pg';
const READY_TIMEOUT_MS = 30_000;
const SUPERUSER = 'anju';

/** The directory of initdb and postgres: the newest version Debian installed. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error('PostgreSQL is not installed: apt-get install postgresql (.ci/run does)');
  return path.join(root, versions[0]!, 'bin');
}

/** uid and gid to run the server as: ours, or a system user made for it when we are root. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', SERVER_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], {
        stdio: 'ignore',
      });
    } catch {
      // Another test file made it at the same moment; `id` below tells.
    }
  }
  const uid = Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function waitUntilReady(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections: ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const identity = serverIdentity();
  const dir = mkdtempSync(path.join(tmpdir(), 'anju-pg-'));
  if (identity) chownSync(dir, identity.uid, identity.gid);
  const data = path.join(dir, 'data');
  const asServer = identity ? { uid: identity.uid, gid: identity.gid } : {};
  execFileSync(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { ...asServer, stdio: 'pipe', cwd: dir },
  );
  const port = await freePort();
  let stderr = '';
  const launch = () =>
    spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // A test server: durability is not what is tested, and a two-core machine is slow enough.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { ...asServer, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  let server = launch();
  const watch = (child: ChildProcess) => {
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
    return new Promise<void>((resolve) => child.once('exit', () => resolve()));
  };
  let exited = watch(server);
  const killOnExit = () => server.kill('SIGKILL');
  process.once('exit', killOnExit);
  const base = `postgres://${SUPERUSER}@127.0.0.1:${port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (server.exitCode === null && server.signalCode === null) server.kill(signal);
    await exited;
    process.removeListener('exit', killOnExit);
  };
  try {
    await waitUntilReady(`${base}/postgres`, server, () => stderr);
  } catch (err) {
    await end('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let made = 0;
  return {
    url: `${base}/postgres`,
    async createDatabase(name = `t${process.pid}_${++made}_${Date.now() % 100000}`) {
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGINT');
      server = launch();
      exited = watch(server);
      process.once('exit', killOnExit);
      await waitUntilReady(`${base}/postgres`, server, () => stderr);
    },
    async stop() {
      await end('SIGINT'); // fast shutdown: active connections are ended
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One server shared by the tests of the calling file or describe block (see aroundTests). */
export function startPostgresAroundTests(started: (server: PostgresServer) => unknown): void {
  aroundTests(startPostgres, (server) => server.stop(), started);
}
