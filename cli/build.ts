// `npm run build` (also run by `npm ci` through `prepare`, and by `npm start`): bundles the server into
// dist/anju.mjs, which bin/anju.js runs while it is newer than every source it was built from. Loading one
// bundle takes about 55 MB less memory than compiling TypeScript on the fly (tsx runs a loader thread and
// an esbuild service), which matters with 10,000 devices connected. Dependencies stay in node_modules.
import { build, type Plugin } from 'esbuild';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
export const BUNDLE = path.join(ROOT, 'dist', 'anju.mjs');

/**
 * Keeps each module's import.meta pointing at its own source file, so that files found beside a module
 * (the default rules, the journal's worker, the web console) are found from the bundle too.
 */
function sourceImportMeta(outDir: string): Plugin {
  return {
    name: 'source-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
        const source = await readFile(file, 'utf8');
        const url = JSON.stringify(path.relative(outDir, file));
        const dir = JSON.stringify(path.sep + path.relative(outDir, path.dirname(file)));
        const contents = source
          .replaceAll('import.meta.url', `new URL(${url}, import.meta.url).href`)
          .replaceAll('import.meta.dirname', `(import.meta.dirname + ${dir})`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Bundles cli/main.ts into `outfile` (inside the checkout, so that node_modules resolves) and writes beside
 * it `<name>.inputs.json`: the sources and when the build read them, which bin/current-bundle.js checks.
 */
export async function buildBundle(outfile = BUNDLE): Promise<void> {
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceImportMeta(path.dirname(outfile))],
  });
  const inputs = Object.keys(result.metafile.inputs);
  await writeFile(
    outfile.replace(/\.mjs$/, '.inputs.json'),
    JSON.stringify({ startedAt, inputs }, null, 1) + '\n',
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, 'cli', 'build.ts')) {
  await buildBundle();
  console.error(`built ${path.relative(ROOT, BUNDLE)}`);
}
