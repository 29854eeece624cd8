// Options and output helpers shared by every subcommand.
import { Option, type Command } from 'commander';
import path from 'node:path';

/** Where a command writes: process.stdout and process.stderr fit, and so does a test's string buffer. */
export interface Writer {
  write(text: string): unknown;
}

/** A command's output streams, and the exit code a command that finished sets when it must not be 0. */
export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  exitCode?: number;
}

export const DEFAULT_DATA_DIR = '.anju';

export function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'where Anju keeps its databases')
    .env('ANJU_DATA_DIR')
    .default(DEFAULT_DATA_DIR);
}

/**
 * The shared database. Without it, the registry and alerts are SQLite files in --data-dir (the embedded
 * default); with a postgres:// URL, every Anju process given the same URL shares one PostgreSQL database.
 * The password belongs in the URL from the environment, not on a command line others can read.
 */
export function databaseOption(): Option {
  return new Option(
    '--database <url>',
    'PostgreSQL URL (postgres://user@host:5432/anju); default: SQLite in --data-dir',
  ).env('ANJU_DATABASE_URL');
}

export function jsonOption(): Option {
  return new Option('--json', 'print machine-readable JSON instead of a table');
}

export function resolveDataDir(dir: string): string {
  return path.resolve(dir);
}

/** What every command that reads or writes the registry takes: where it lives, and --json. */
export function registryOptions(command: Command): Command {
  return command.addOption(dataDirOption()).addOption(databaseOption()).addOption(jsonOption());
}

/** Columns a string takes in a terminal: CJK and full-width characters take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const wide =
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      cp >= 0x20000;
    width += wide ? 2 : 1;
  }
  return width;
}

/** Prints rows as JSON (`--json`) or as an aligned text table for people. */
export function printRows(
  rows: Record<string, unknown>[],
  json: boolean | undefined,
  out: Writer = process.stdout,
): void {
  if (json) {
    out.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    out.write('(none)\n');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  out.write([line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n');
}

/** Prints one record as JSON (`--json`) or as `key: value` lines. */
export function printRecord(
  record: Record<string, unknown>,
  json: boolean | undefined,
  out: Writer = process.stdout,
): void {
  if (json) {
    out.write(JSON.stringify(record, null, 2) + '\n');
    return;
  }
  for (const [k, v] of Object.entries(record))
    out.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
}
