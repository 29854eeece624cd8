// Loading rules: a community's file is deep-merged over the shipped defaults, each resident's override
// over the community's rules, and every result is validated before any of it is used.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { RuleConfig, type RuleConfigInput } from './schema.ts';

export const DEFAULT_RULES_FILE = path.join(import.meta.dirname, 'defaults.yaml');

export interface RuleIssue {
  path: string;
  message: string;
}

export class RuleFileError extends Error {
  constructor(
    readonly source: string,
    readonly issues: RuleIssue[],
  ) {
    super(
      `invalid rules in ${source}:\n${issues.map((i) => `  ${i.path || '(top)'}: ${i.message}`).join('\n')}`,
    );
    this.name = 'RuleFileError';
  }
}

/** Community rules plus the validated rules of every resident with an override. */
export class RuleSet {
  constructor(
    readonly source: string,
    readonly community: RuleConfig,
    private readonly residents: ReadonlyMap<string, RuleConfig>,
    /** Residents whose own override names a `timezone`: it beats their home's zone in the registry. */
    private readonly residentZones: ReadonlySet<string> = new Set(),
  ) {}

  forResident(residentId: string): RuleConfig {
    return this.residents.get(residentId) ?? this.community;
  }

  /** The zone this resident's own override sets, if it sets one. */
  timezoneOverride(residentId: string): string | undefined {
    return this.residentZones.has(residentId) ? this.forResident(residentId).timezone : undefined;
  }

  get overriddenResidents(): string[] {
    return [...this.residents.keys()];
  }
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else in `override` replaces what `base` has. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isPlain(base) || !isPlain(override)) return override;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
  return out;
}

function issuesOf(error: z.ZodError, prefix: string): RuleIssue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

function parseText(text: string, format: 'yaml' | 'json', source: string): unknown {
  try {
    return format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new RuleFileError(source, [{ path: '', message: (err as Error).message }]);
  }
}

let shipped: unknown;

function shippedDefaults(): unknown {
  shipped ??= parseYaml(readFileSync(DEFAULT_RULES_FILE, 'utf8'));
  return shipped;
}

/** Validates a rules document (already parsed from YAML or JSON). Throws RuleFileError listing every problem. */
export function buildRuleSet(doc: unknown, source: string): RuleSet {
  if (doc !== null && doc !== undefined && !isPlain(doc)) {
    throw new RuleFileError(source, [{ path: '', message: 'expected a mapping of rule sections' }]);
  }
  const body: Plain = doc ?? {};
  const { residents = {}, ...communityPart } = body;
  const issues: RuleIssue[] = [];

  const communityInput = deepMerge(shippedDefaults(), communityPart);
  const community = RuleConfig.safeParse(communityInput);
  if (!community.success) issues.push(...issuesOf(community.error, ''));
  // A resident's rules inherit the community's problems; report only their own.
  const inherited = new Set(issues.map((i) => `${i.path}\0${i.message}`));

  const perResident = new Map<string, RuleConfig>();
  const residentZones = new Set<string>();
  if (!isPlain(residents)) {
    issues.push({ path: 'residents', message: 'expected a mapping of resident id to rule overrides' });
  } else {
    for (const [residentId, override] of Object.entries(residents)) {
      const parsed = RuleConfig.safeParse(deepMerge(communityInput, override as RuleConfigInput));
      if (parsed.success) {
        perResident.set(residentId, parsed.data);
        if (isPlain(override) && override.timezone !== undefined) residentZones.add(residentId);
      } else {
        for (const issue of issuesOf(parsed.error, '')) {
          if (!inherited.has(`${issue.path}\0${issue.message}`)) {
            const where = issue.path ? `residents.${residentId}.${issue.path}` : `residents.${residentId}`;
            issues.push({ ...issue, path: where });
          }
        }
      }
    }
  }
  if (issues.length > 0 || !community.success) throw new RuleFileError(source, issues);
  return new RuleSet(source, community.data, perResident, residentZones);
}

export function parseRules(text: string, format: 'yaml' | 'json', source = '(text)'): RuleSet {
  return buildRuleSet(parseText(text, format, source), source);
}

/** A YAML or JSON (by extension) rules file, parsed but not yet validated. */
export function readRulesDoc(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RuleFileError(file, [{ path: '', message: (err as Error).message }]);
  }
  return parseText(text, file.endsWith('.json') ? 'json' : 'yaml', file);
}

/** Reads a YAML or JSON (by extension) rules file; without a file, the shipped defaults. */
export function loadRules(file?: string): RuleSet {
  if (file === undefined) return buildRuleSet({}, DEFAULT_RULES_FILE);
  return buildRuleSet(readRulesDoc(file), file);
}
