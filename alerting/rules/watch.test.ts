import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleSet } from './load.ts';
import { watchRules, type RuleWatcher } from './watch.ts';

let dir = '';
let watcher: RuleWatcher | undefined;
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

function waitFor<T>(get: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const v = get();
      if (v !== undefined) {
        clearInterval(poll);
        resolve(v);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error('timed out'));
      }
    }, 10);
  });
}

describe('rules file watcher', () => {
  it('reloads a changed file, and keeps the rules in force when the new file is invalid', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'anju-watch-'));
    const file = path.join(dir, 'rules.yaml');
    writeFileSync(file, 'gas: { methane: { alarm: 20 } }\n');
    let current: RuleSet | undefined;
    const errors: Error[] = [];
    watcher = watchRules(file, {
      onReload: (r) => (current = r),
      onError: (e) => errors.push(e),
      debounceMs: 50,
    });

    writeFileSync(file, 'gas: { methane: { alarm: 22 } }\n');
    const first = await waitFor(() => (current?.community.gas.methane.alarm === 22 ? current : undefined));

    writeFileSync(file, 'gas: { methane: { alarm: "loud" } }\n');
    await waitFor(() => errors[0]);
    expect(errors[0]!.message).toContain('gas.methane.alarm');
    expect(current).toBe(first);

    // Editors save by writing a new file and renaming it over the old one.
    writeFileSync(path.join(dir, 'rules.yaml.tmp'), 'gas: { methane: { alarm: 24 } }\n');
    renameSync(path.join(dir, 'rules.yaml.tmp'), file);
    await waitFor(() => (current?.community.gas.methane.alarm === 24 ? current : undefined));
  });
});
