// Per-resident rule overrides set from the admin page, kept in the registry file. An override is any part
// of the rule configuration (alerting/rules/schema.ts); it is checked the way the engine will use it:
// deep-merged over the community's rules (the shipped defaults plus the rules file) and validated whole.
import type { Database } from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  buildRuleSet,
  deepMerge,
  DEFAULT_RULES_FILE,
  RuleFileError,
  type RuleIssue,
} from '../alerting/rules/load.ts';

export interface ResidentRules {
  residentId: string;
  overrides: Record<string, unknown>;
  updatedAt: number;
  updatedBy: string;
}

interface Row {
  resident_id: string;
  overrides: string;
  updated_at: number;
  updated_by: string;
}

function toRules(row: Row): ResidentRules {
  return {
    residentId: row.resident_id,
    overrides: JSON.parse(row.overrides) as Record<string, unknown>,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function readDoc(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const doc: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  return (doc ?? {}) as Record<string, unknown>;
}

/** The community's rules file on top of the shipped defaults, before validation: the base an override changes. */
export function communityRules(rulesFile: string | undefined): Record<string, unknown> {
  const { residents: _residents, ...community } = rulesFile ? readDoc(rulesFile) : {};
  return deepMerge(readDoc(DEFAULT_RULES_FILE), community) as Record<string, unknown>;
}

/** Every problem this override would cause for this resident; empty when it is valid. */
export function checkOverrides(
  rulesFile: string | undefined,
  residentId: string,
  overrides: Record<string, unknown>,
): RuleIssue[] {
  try {
    buildRuleSet({ ...communityRules(rulesFile), residents: { [residentId]: overrides } }, 'override');
    return [];
  } catch (err) {
    if (!(err instanceof RuleFileError)) throw err;
    const prefix = `residents.${residentId}.`;
    return err.issues.map((i) => ({ path: i.path.replace(prefix, ''), message: i.message }));
  }
}

export class ResidentRuleStore {
  private readonly stmt;
  private readonly listeners = new Set<(rules: ResidentRules) => void>();

  constructor(
    db: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.stmt = {
      get: db.prepare<[string], Row>('SELECT * FROM resident_rules WHERE resident_id = ?'),
      all: db.prepare<[], Row>('SELECT * FROM resident_rules ORDER BY resident_id'),
      put: db.prepare(
        `INSERT INTO resident_rules (resident_id, overrides, updated_at, updated_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (resident_id) DO UPDATE SET overrides = excluded.overrides,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      ),
    };
  }

  get(residentId: string): ResidentRules | undefined {
    const row = this.stmt.get.get(residentId);
    return row && toRules(row);
  }

  /** Every resident's overrides, as the `residents:` section of a rules document takes them. */
  all(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.stmt.all.all().map((row) => [row.resident_id, toRules(row).overrides]));
  }

  /** Stores already checked overrides (see checkOverrides) and tells listeners, such as the rule engine. */
  put(residentId: string, overrides: Record<string, unknown>, actor: string): ResidentRules {
    this.stmt.put.run(residentId, JSON.stringify(overrides), this.now(), actor);
    const rules = this.get(residentId)!;
    for (const listener of this.listeners) listener(rules);
    return rules;
  }

  onChange(listener: (rules: ResidentRules) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
