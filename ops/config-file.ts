// One way to read a configuration file (rules, notifications, escalation policies, scenarios, devices):
// YAML 1.2, of which JSON is a subset, validated by a zod schema, with an error that names the file and
// every problem by its path, so that an operator can fix them all at once.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** `path.to.field: message` for each issue, joined by `separator`. */
export function formatIssues(error: z.ZodError, separator = '; '): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : `(top): ${i.message}`))
    .join(separator);
}

/** Parses YAML or JSON text against `schema`; throws an Error starting with `source`. Empty text is {}. */
export function parseConfigText<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  const result = schema.safeParse(data ?? {});
  if (!result.success) throw new Error(`${source}: ${formatIssues(result.error)}`);
  return result.data;
}

/** Reads and parses a configuration file; errors name the file. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  return parseConfigText(schema, readFileSync(file, 'utf8'), file);
}
