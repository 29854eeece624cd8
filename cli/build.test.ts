// The bundle `npm ci` builds is what `anju` runs: it must find the files that live beside its sources,
// and a bundle older than an edited source must never run.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { currentBundle } from '../bin/current-bundle.js';
import { ensureWebBuilt } from '../dashboard/web/ensure-built.ts';
import { TEST_ADMIN_PASSWORD } from '../test/harness.ts';
import { spawnAnju } from '../test/spawn-anju.ts';
import { buildBundle } from './build.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
// Inside the checkout, so that the bundle resolves node_modules as dist/ does.
mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
const outDir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'bundle-'));
const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-bundle-'));
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the server bundle', () => {
  it('serves with the default rules, the journal worker and the web console found from the bundle', async () => {
    await ensureWebBuilt();
    const bundle = path.join(outDir, 'anju.mjs');
    await buildBundle(bundle);
    expect(currentBundle(pathToFileURL(bundle), pathToFileURL(ROOT + '/'))?.href).toBe(
      pathToFileURL(bundle).href,
    );
    const server = await spawnAnju(dataDir, { ANJU_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD }, bundle);
    try {
      // Starting at all needs the default rules and the journal's worker thread.
      const health = await server.health();
      expect(health.status).toBe('ok');
      const page = await fetch(`http://127.0.0.1:${server.httpPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
    } finally {
      await server.stop();
    }
  }, 240_000);

  it('is stale once any source it was built from is newer than the build', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'anju-stale-'));
    try {
      mkdirSync(path.join(root, 'src'));
      for (const name of ['a.ts', 'b.ts']) writeFileSync(path.join(root, 'src', name), '');
      const startedAt = Date.now();
      writeFileSync(path.join(root, 'anju.mjs'), '');
      writeFileSync(
        path.join(root, 'anju.inputs.json'),
        JSON.stringify({ startedAt, inputs: ['src/a.ts', 'src/b.ts'] }),
      );
      const bundle = pathToFileURL(path.join(root, 'anju.mjs'));
      const rootUrl = pathToFileURL(root + '/');
      const past = new Date(startedAt - 60_000);
      for (const name of ['a.ts', 'b.ts']) utimesSync(path.join(root, 'src', name), past, past);
      expect(currentBundle(bundle, rootUrl)).not.toBeNull();

      const later = new Date(startedAt + 1_000);
      utimesSync(path.join(root, 'src', 'b.ts'), later, later);
      expect(currentBundle(bundle, rootUrl)).toBeNull();

      rmSync(path.join(root, 'src', 'b.ts'));
      expect(currentBundle(bundle, rootUrl)).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
