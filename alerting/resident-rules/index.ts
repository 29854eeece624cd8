// Per-resident rule overrides: their table (migrations.ts), their store, and the rules document they
// are merged into.
export { RESIDENT_RULES_SCHEMA } from './migrations.ts';
export { ResidentRuleStore, type ResidentRules } from './store.ts';
export { checkOverrides, communityRules, rulesDocument, ruleSetWith } from './document.ts';
