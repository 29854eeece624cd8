// `anju serve --cluster` refuses, in words and before opening anything, what cannot make a cluster: no
// shared PostgreSQL, no shared readings store, no NATS servers. (The cluster itself runs in
// test/cluster.e2e.test.ts.)
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const tmp = mkdtempSync(path.join(process.env.ANJU_TEST_TMP ?? '/tmp', 'anju-cluster-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The environment without ANJU_* settings of whoever runs the tests. */
function withoutAnju(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('ANJU_')));
}

async function serve(args: string[], env: Record<string, string> = {}) {
  const dataDir = path.join(tmp, `data-${Math.random().toString(36).slice(2)}`);
  try {
    await run(process.execPath, [path.join(ROOT, 'bin/anju.js'), 'serve', '--data-dir', dataDir, ...args], {
      env: { ...withoutAnju(process.env), ...env },
      timeout: 30_000,
    });
    return { code: 0, stderr: '', created: existsSync(dataDir) };
  } catch (err) {
    const { code, stderr } = err as { code: number; stderr: string };
    return { code, stderr, created: existsSync(dataDir) };
  }
}

it('refuses --cluster without a shared database, store and NATS servers, and creates nothing', async () => {
  const result = await serve(['--cluster']);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('--cluster needs a shared PostgreSQL database: --database postgres://');
  expect(result.stderr).toContain('--cluster needs a shared readings store: --influx-url');
  expect(result.stderr).toContain('give the NATS servers: --nats nats://');
  expect(result.created).toBe(false);
});

it('names a NATS address that is not a nats:// URL, and a node id it cannot use', async () => {
  const result = await serve(
    ['--nats', 'http://n1:4222', '--node-id', 'a b', '--influx-url', 'http://127.0.0.1:1'],
    { ANJU_CLUSTER: '1', ANJU_DATABASE_URL: 'postgres://anju@127.0.0.1:1/anju' },
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('must be a nats:// URL');
  expect(result.stderr).toContain('letters, digits, _ . - (at most 64)');
  expect(result.stderr).not.toContain('--cluster needs');
  expect(result.created).toBe(false);
});
