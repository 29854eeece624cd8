// The alert lifecycle: records, audit trail, escalation. The rule engine feeds AlertService.apply().
export { AlertService, type AlertServiceOptions } from './service.ts';
export type { Clock } from './escalation.ts';
export { registryDirectory, type AlertResident, type ResidentDirectory } from './directory.ts';
export {
  DEFAULT_POLICIES,
  EscalationPolicies,
  EscalationPolicy,
  EscalationStep,
  loadEscalationPolicies,
  parseEscalationPolicies,
  policyFor,
} from './policy.ts';
export { alertsPath } from './db.ts';
export { appAddress, appAudience, type AppAudience } from './app-address.ts';
export * from './schemas.ts';
