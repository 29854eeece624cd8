// Reloads a rules file when it changes. The directory is watched rather than the file because editors
// and deploy tools replace files by rename, which ends a watch on the old inode. A burst of events is
// debounced into one reload; a file that fails to load is reported and the rules in force stay.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { loadRules, type RuleSet } from './load.ts';

export interface RuleWatchOptions {
  onReload: (rules: RuleSet) => void;
  /** The file did not load (RuleFileError for invalid rules); the previous rules stay in force. */
  onError: (err: Error) => void;
  debounceMs?: number;
}

export interface RuleWatcher {
  close(): void;
}

export function watchRules(file: string, options: RuleWatchOptions): RuleWatcher {
  const name = path.basename(file);
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;

  const reload = () => {
    let rules: RuleSet;
    try {
      rules = loadRules(file);
    } catch (err) {
      options.onError(err as Error);
      return;
    }
    options.onReload(rules);
  };

  const watcher: FSWatcher = watch(path.dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  watcher.on('error', (err) => options.onError(err));

  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
