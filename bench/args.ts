// What every benchmark script starts with: its options read from the command line, --json (figures as
// JSON on stdout) and --help, and `log` for progress on stderr, which keeps stdout for the figures.
import { parseArgs } from 'node:util';

/** An option's default says its type: a number is read as a number, no default is an optional string. */
type Defaults = Record<string, number | string | boolean | undefined>;

type Values<D extends Defaults> = {
  -readonly [K in keyof D]: D[K] extends number
    ? number
    : D[K] extends boolean
      ? boolean
      : D[K] extends string
        ? string
        : string | undefined;
} & { json: boolean };

export function benchArgs<const D extends Defaults>(usage: string, defaults: D): Values<D> {
  const options = Object.fromEntries(
    Object.entries({ ...defaults, json: false, help: false }).map(([name, value]) => [
      name,
      typeof value === 'boolean'
        ? { type: 'boolean' as const, default: value }
        : { type: 'string' as const, ...(value === undefined ? {} : { default: String(value) }) },
    ]),
  );
  const { values } = parseArgs({ options });
  if (values.help) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name === 'help') continue;
    if (typeof defaults[name] !== 'number') {
      parsed[name] = value;
      continue;
    }
    const number = Number(value);
    if (value === '' || !Number.isFinite(number)) {
      console.error(`--${name}: expected a number, got "${String(value)}"\nusage: ${usage}`);
      process.exit(2);
    }
    parsed[name] = number;
  }
  return parsed as Values<D>;
}

export const log = (msg: string) => process.stderr.write(msg + '\n');
