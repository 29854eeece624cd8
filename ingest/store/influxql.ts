// Quoting for InfluxQL. Query values reach here from the HTTP API, so every identifier and string is
// quoted by these functions and nothing else. The `influx` package's own helpers are not used: its
// string quoting leaves backslashes alone, so a value ending in `\` escapes the closing quote (InfluxQL
// injection). InfluxQL strings and quoted identifiers accept exactly these escapes: \\ \' \" \n.
import { z } from 'zod';

function escapeQuoted(text: string, quote: '"' | "'"): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replaceAll(quote, `\\${quote}`);
}

/** A double-quoted identifier: database, retention policy, measurement, tag key or field key. */
export function quoteIdentifier(name: string): string {
  return `"${escapeQuoted(name, '"')}"`;
}

/** A single-quoted string literal, e.g. a tag value in WHERE. */
export function quoteString(value: string): string {
  return `'${escapeQuoted(value, "'")}'`;
}

const Integer = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** An absolute time (Unix ms) as an InfluxQL time literal. */
export function msTime(ms: number): string {
  return `${Integer.parse(ms)}ms`;
}

/** A duration in ms as an InfluxQL duration literal, e.g. for GROUP BY time(...). */
export function msDuration(ms: number): string {
  return `${Integer.min(1).parse(ms)}ms`;
}
