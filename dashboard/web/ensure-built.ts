// Builds the web console when dashboard/web/dist is missing or older than its sources, so a fresh clone
// works with `npm start` (prestart) and the browser tests (which call ensureWebBuilt). Test files run in
// parallel workers: a lock directory makes one build and the others wait for it.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('.', import.meta.url));
const DIST_INDEX = path.join(WEB_DIR, 'dist', 'index.html');
const LOCK = path.join(WEB_DIR, '.build-lock');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'];
/** A lock older than this was left by a build that died. */
const STALE_LOCK_MS = 5 * 60_000;

function newestMtime(p: string): number {
  let stat;
  try {
    stat = statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(p).map((name) => newestMtime(path.join(p, name))));
}

export function webBuildIsCurrent(): boolean {
  let built: number;
  try {
    built = statSync(DIST_INDEX).mtimeMs;
  } catch {
    return false;
  }
  return Math.max(...SOURCES.map((s) => newestMtime(path.join(WEB_DIR, s)))) <= built;
}

function tryLock(): boolean {
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      // Released meanwhile.
    }
    return false;
  }
}

/** Resolves once dist is current, building it here or waiting for another process that is. */
export async function ensureWebBuilt(timeoutMs = 180_000): Promise<'built' | 'current'> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (webBuildIsCurrent()) return 'current';
    if (tryLock()) {
      try {
        if (webBuildIsCurrent()) return 'current';
        // vite is a dev dependency: imported only when a build is needed.
        const { build } = await import('vite');
        await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
        return 'built';
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline)
      throw new Error(`web build not finished within ${timeoutMs} ms (lock ${LOCK})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await ensureWebBuilt();
  console.log(result === 'built' ? 'web console built into dashboard/web/dist' : 'web console is up to date');
}
