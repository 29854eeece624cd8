// Writes the generated parts of the vendor contract: firmware-protocol/asyncapi.yaml and the payload
// field tables in docs/firmware-protocol.md. Run `npm run asyncapi:generate` after changing a schema;
// asyncapi.test.ts and vendor-guide.test.ts fail while either file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { stringify } from 'yaml';
import { z } from 'zod';
import { PROTOCOL_MESSAGES, buildAsyncApiDocument, type ProtocolMessage } from './asyncapi.ts';
import { topicFor } from './topics.ts';

export const ASYNCAPI_YAML_PATH = fileURLToPath(new URL('./asyncapi.yaml', import.meta.url));
export const VENDOR_GUIDE_PATH = fileURLToPath(new URL('../docs/firmware-protocol.md', import.meta.url));

const HEADER =
  '# GENERATED FILE, do not edit: `npm run asyncapi:generate` writes it from firmware-protocol/schemas.ts\n' +
  '# (see firmware-protocol/asyncapi.ts).\n';

export function renderAsyncApiYaml(): string {
  // No anchors or aliases: readers and code generators of vendors should see every schema in place.
  return HEADER + stringify(buildAsyncApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 });
}

// ------------------------------------------------------------------------------ payload tables for the guide

type JsonSchema = { [keyword: string]: unknown };

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const objects = (value: unknown) => (Array.isArray(value) ? (value as JsonSchema[]) : []);
const props = (schema: JsonSchema) => (schema.properties ?? {}) as Record<string, JsonSchema>;

function typeOf(schema: JsonSchema): string {
  const alternatives = objects(schema.anyOf);
  if (alternatives.length > 0) return alternatives.map(typeOf).join(' or ');
  if (schema.type === 'array') return `array of ${typeOf((schema.items ?? {}) as JsonSchema)}s`;
  return String(schema.type ?? 'any');
}

/** The allowed values of a field, as a vendor reads them: `20 to 250`, `≤ 32 chars`, `open`, `closed`. */
function rangeOf(schema: JsonSchema): string {
  const alternatives = objects(schema.anyOf);
  if (alternatives.length > 0) return alternatives.map(rangeOf).filter(Boolean).join('; ');
  if ('const' in schema) return code(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(code).join(', ');
  if (schema.type === 'array') {
    const fields = Object.keys(props((schema.items ?? {}) as JsonSchema));
    return fields.length ? `objects with ${fields.map(code).join(', ')}` : '';
  }
  const [low, high, unit] =
    schema.type === 'string'
      ? [schema.minLength, schema.maxLength, ' chars']
      : [schema.minimum, schema.maximum, ''];
  // zod's .int() alone sets the safe-integer bounds; they say nothing to a vendor.
  const [min, max] = [low, high].map((n) =>
    Math.abs(Number(n)) === Number.MAX_SAFE_INTEGER ? undefined : n,
  );
  if (min !== undefined && max !== undefined) return `${min} to ${max}${unit}`;
  if (min !== undefined) return `≥ ${min}${unit}`;
  if (max !== undefined) return `≤ ${max}${unit}`;
  return '';
}

const cell = (text: unknown) => String(text ?? '').replace(/\|/g, '\\|');

function fieldRow(name: string, schema: JsonSchema, required: boolean, lead: string[]): string {
  const unit = schema.unit ?? objects(schema.anyOf).find((a) => a.unit)?.unit;
  const columns = [
    ...lead,
    code(name),
    typeOf(schema),
    unit,
    rangeOf(schema),
    required ? 'yes' : 'no',
    schema.description,
  ];
  return `| ${columns.map(cell).join(' | ')} |`;
}

/** What an object-level `anyOf`/`oneOf` (the zod refinements) asks, one clause each, lower case. */
function objectRules(schema: JsonSchema): string[] {
  const rules: string[] = [];
  const atLeastOne = objects(schema.anyOf).flatMap((a) => (a.required as string[] | undefined) ?? []);
  if (atLeastOne.length > 0)
    rules.push(`at least one of ${atLeastOne.map(code).join(', ')} must be present.`);
  const cases = objects(schema.oneOf).filter((branch) => branch.type === undefined);
  if (cases.length > 0) {
    const clause = ([name, s]: [string, JsonSchema]) =>
      `${code(name)} ${'maximum' in s ? `≤ ${s.maximum}` : `is ${rangeOf(s).replace(/, /g, ' or ')}`}`;
    const sentences = cases.map((branch) => {
      const [condition, ...consequences] = Object.entries(props(branch));
      return condition ? `when ${clause(condition)}: ${consequences.map(clause).join(', ')}` : '';
    });
    rules.push(`${sentences.join('; ')}.`);
  }
  return rules;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const isRequired = (schema: JsonSchema, name: string) =>
  ((schema.required as string[] | undefined) ?? []).includes(name);

const HEAD = ['field', 'type', 'unit', 'values', 'required', 'meaning'];
const tableHead = (columns: string[]) => [
  `| ${columns.join(' | ')} |`,
  `|${columns.map(() => '---').join('|')}|`,
];

function objectTable(schema: JsonSchema): string[] {
  return [
    ...tableHead(HEAD),
    ...Object.entries(props(schema)).map(([name, s]) => fieldRow(name, s, isRequired(schema, name), [])),
    ...objectRules(schema).flatMap((rule) => ['', capitalised(rule)]),
  ];
}

/** A union of message types: one table, the fields every type carries first, then those of each type. */
function unionTable(variants: JsonSchema[]): string[] {
  const typeOfVariant = (v: JsonSchema) => String(props(v).type?.const);
  const first = variants[0] ?? {};
  const everywhere = (name: string) =>
    variants.every(
      (v) =>
        JSON.stringify(props(v)[name]) === JSON.stringify(props(first)[name]) &&
        isRequired(v, name) === isRequired(first, name),
    );
  const shared = Object.keys(props(first)).filter((name) => name === 'type' || everywhere(name));
  const typeField = { type: 'string', enum: variants.map(typeOfVariant), description: 'What happened.' };
  const rows = [
    ...shared.map((name) =>
      fieldRow(name, name === 'type' ? typeField : props(first)[name]!, isRequired(first, name), ['all']),
    ),
    ...variants.flatMap((v) =>
      Object.entries(props(v))
        .filter(([name]) => !shared.includes(name))
        .map(([name, s]) => fieldRow(name, s, isRequired(v, name), [code(typeOfVariant(v))])),
    ),
  ];
  const rules = variants.flatMap((v) =>
    objectRules(v).map((rule) => `For ${code(typeOfVariant(v))}: ${rule}`),
  );
  return [...tableHead(['for type', ...HEAD]), ...rows, ...rules.flatMap((rule) => ['', rule])];
}

function messageSection(m: ProtocolMessage): string[] {
  const schema = z.toJSONSchema(m.schema, { target: 'draft-7' }) as JsonSchema;
  const variants = objects(schema.oneOf).filter((v) => v.type === 'object');
  const examples = Array.isArray(schema.examples) ? schema.examples : [];
  return [
    `### ${m.title}`,
    '',
    `${m.summary} Topic ${code(topicFor('{deviceId}', m.channel))}, AsyncAPI message ${code(m.name)}.`,
    '',
    ...(variants.length > 0 ? unionTable(variants) : objectTable(schema)),
    '',
    examples.length === 1 ? 'Example:' : 'Examples:',
    ...examples.flatMap((e) => ['', '```json', JSON.stringify(e), '```']),
    '',
  ];
}

/** Markdown tables of every message's fields, with units, allowed values and examples. */
export function renderPayloadTables(): string {
  return PROTOCOL_MESSAGES.flatMap(messageSection).join('\n');
}

// ------------------------------------------------------------------------------------------- the guide

const BEGIN = '<!-- BEGIN GENERATED payload tables: npm run asyncapi:generate -->';
const END = '<!-- END GENERATED payload tables -->';

/** The vendor guide with its generated section replaced, formatted as `npm run lint` expects. */
export async function renderVendorGuide(current: string): Promise<string> {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${VENDOR_GUIDE_PATH} lacks the markers ${BEGIN} ... ${END}`);
  const text = `${current.slice(0, start)}${BEGIN}\n\n${renderPayloadTables()}\n${current.slice(end)}`;
  const options = await prettier.resolveConfig(VENDOR_GUIDE_PATH);
  return prettier.format(text, { ...options, filepath: VENDOR_GUIDE_PATH });
}

async function main(): Promise<void> {
  await writeFile(ASYNCAPI_YAML_PATH, renderAsyncApiYaml());
  await writeFile(VENDOR_GUIDE_PATH, await renderVendorGuide(await readFile(VENDOR_GUIDE_PATH, 'utf8')));
  console.log(`wrote ${ASYNCAPI_YAML_PATH}\nwrote ${VENDOR_GUIDE_PATH}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
