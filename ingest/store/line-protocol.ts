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

function escapeKey(name: string): string {
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

/** One line: `measurement,tag=v,... field=v,...,seq=Ni ts` with ts in ms (write with precision=ms). */
export function toLine(point: Point): string {
  const tags = Object.entries(point.tags)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]) => `${escapeKey(k)}=${escapeKey(v)}`)
    .sort();
  const fields = Object.entries(point.fields).map(([k, v]) => `${escapeKey(k)}=${fieldValue(v)}`);
  fields.push(`seq=${point.seq}i`);
  const head = [escapeMeasurement(point.measurement), ...tags].join(',');
  return `${head} ${fields.join(',')} ${point.ts}`;
}
