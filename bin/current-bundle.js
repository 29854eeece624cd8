// Whether a bundle built by cli/build.ts may run: it exists and every source it was built from is older
// than the build. A source edited since (or a checkout that rewrote them) makes it stale.
import { readFileSync, statSync } from 'node:fs';
import { URL } from 'node:url';

/** The URL of `bundle` (a file URL) when it is current, else null. */
export function currentBundle(bundle, root) {
  try {
    const inputsFile = new URL(bundle.href.replace(/\.mjs$/, '.inputs.json'));
    const { startedAt, inputs } = JSON.parse(readFileSync(inputsFile, 'utf8'));
    statSync(bundle);
    return inputs.every((file) => statSync(new URL(file, root)).mtimeMs <= startedAt) ? bundle : null;
  } catch {
    return null;
  }
}
