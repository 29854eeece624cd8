// Runs `anju` for tests in the two ways they need: as a person or a script does, `node bin/anju.js` in a
// subprocess (exit codes, --help, the real entry point), and in-process through `run` where a test is
// about what a command does rather than about the process (a subprocess costs a second of start-up).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './program.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'anju.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `node bin/anju.js ...args`. No ANJU_* variable of the developer's shell reaches it (a stray
 * ANJU_DATA_DIR would point it elsewhere); `env` sets the ones the test means.
 */
export function spawnAnju(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ANJU_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...inherited, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** The same command run in this process, its output collected; give --data-dir, as the env is this one's. */
export async function runAnju(...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
