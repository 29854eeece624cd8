// The one place the rules document is put together: the shipped defaults, the operator's rules file and
// each resident's overrides (the file's `residents:` entries, replaced by the admin page's). The rule
// engine runs what ruleSetWith() builds; the admin page checks an override with checkOverrides(), which
// builds the same document for that resident.
import {
  buildRuleSet,
  deepMerge,
  DEFAULT_RULES_FILE,
  readRulesDoc,
  RuleFileError,
  type RuleIssue,
  type RuleSet,
} from '../rules/load.ts';

type Overrides = Record<string, Record<string, unknown>>;

function fileParts(rulesFile: string | undefined): {
  community: Record<string, unknown>;
  residents: Overrides;
} {
  const doc = (rulesFile ? (readRulesDoc(rulesFile) ?? {}) : {}) as Record<string, unknown>;
  const { residents, ...community } = doc;
  return { community, residents: (residents ?? {}) as Overrides };
}

/** The rules document with the given per-resident overrides over the file's own. */
export function rulesDocument(rulesFile: string | undefined, overrides: Overrides): Record<string, unknown> {
  const { community, residents } = fileParts(rulesFile);
  return { ...community, residents: { ...residents, ...overrides } };
}

/** The rules in force: what the engine runs. Throws RuleFileError listing every problem. */
export function ruleSetWith(rulesFile: string | undefined, overrides: Overrides): RuleSet {
  return buildRuleSet(rulesDocument(rulesFile, overrides), rulesFile ?? DEFAULT_RULES_FILE);
}

/** The community's rules file on top of the shipped defaults: the base an override changes, as shown. */
export function communityRules(rulesFile: string | undefined): Record<string, unknown> {
  return deepMerge(readRulesDoc(DEFAULT_RULES_FILE), fileParts(rulesFile).community) as Record<
    string,
    unknown
  >;
}

/** Every problem this override would cause for this resident; empty when it is valid. */
export function checkOverrides(
  rulesFile: string | undefined,
  residentId: string,
  overrides: Record<string, unknown>,
): RuleIssue[] {
  try {
    // The community's rules and this resident's override only: another resident's problem is not this one's.
    const { community } = fileParts(rulesFile);
    buildRuleSet({ ...community, residents: { [residentId]: overrides } }, 'override');
    return [];
  } catch (err) {
    if (!(err instanceof RuleFileError)) throw err;
    const prefix = `residents.${residentId}.`;
    return err.issues.map((i) => ({ path: i.path.replace(prefix, ''), message: i.message }));
  }
}
