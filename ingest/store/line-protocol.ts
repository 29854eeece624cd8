// InfluxDB line protocol for Anju's points, written here rather than by the `influx` package because its
// escaping loses data (checked against influxd 1.6.7): it does not escape measurements, it turns the first
// `\'` of any string into `\\'`, and line protocol itself cannot carry a backslash at the end of a tag
// value or before a comma, space or `=`. So names (tag keys, tag values, field keys) are first made
// backslash-free by percent-encoding the four characters that are unsafe in them (`%`, `\`, LF, CR), then
// escaped as the protocol asks. Everything else, Chinese included, is stored as it is.
import type { FieldValue, Point } from './types.ts';

const UNSAFE_IN_NAMES = /[%\\\n\r]/g;
const ENCODED_IN_NAMES = /%(25|5C|0A|0D)/g;
const ENCODE: Record<string, string> = { '%': '%25', '\\': '%5C', '\n': '%0A', '\r': '%0D' };
const DECODE: Record<string, string> = { '25': '%', '5C': '\\', '0A': '\n', '0D': '\r' };

/** The form in which a tag key, tag value or field key is stored in InfluxDB (and compared in InfluxQL). */
export function encodeName(name: string): string {
  return name.replace(UNSAFE_IN_NAMES, (c) => ENCODE[c]!);
}

export function decodeName(stored: string): string {
  return stored.replace(ENCODED_IN_NAMES, (_, hex: string) => DECODE[hex]!);
}

/** A character to encode or escape somewhere in a name; most names (ids, field keys) have none. */
const SPECIAL_IN_NAMES = /[%\\\n\r,= ]/;

function escapeKey(name: string): string {
  if (!SPECIAL_IN_NAMES.test(name)) return name;
  return encodeName(name).replace(/[,= ]/g, '\\$&');
}

function escapeMeasurement(name: string): string {
  return name.replace(/[, ]/g, '\\$&');
}

function fieldValue(value: FieldValue): string {
  if (typeof value === 'string') return `"${value.replace(/["\\]/g, '\\$&')}"`;
  // Numbers are written as floats (no `i` suffix) so that 72 and 72.5 never conflict in type.
  return String(value);
}

/**
 * One line: `measurement,tag=v,... field=v,...,seq=Ni ts` with ts in ms (write with precision=ms). Built
 * with plain loops: the store writer turns every reading into a line, on the event loop.
 */
export function toLine(point: Point): string {
  const tags: string[] = [];
  for (const key in point.tags) {
    const value = point.tags[key as keyof Point['tags']];
    if (value !== undefined) tags.push(`${escapeKey(key)}=${escapeKey(value)}`);
  }
  tags.sort();
  let line = escapeMeasurement(point.measurement);
  for (const tag of tags) line += `,${tag}`;
  line += ' ';
  for (const key in point.fields) line += `${escapeKey(key)}=${fieldValue(point.fields[key]!)},`;
  return `${line}seq=${point.seq}i ${point.ts}`;
}
