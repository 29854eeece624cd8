// The one interface between the rule engine (which judges readings) and the alert lifecycle (which
// records alerts, escalates and notifies). The engine emits signals; alerts/ turns them into records.
import { z } from 'zod';

export const SEVERITIES = ['info', 'warning', 'alarm', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export const AlertSignal = z.object({
  /** raise: open or update the alert of this (resident, rule); clear: the condition is over. */
  action: z.enum(['raise', 'clear']),
  residentId: z.string(),
  /** Stable rule id, e.g. "gas.methane", "co.dose", "event.sos", "absence.routine". One open alert per resident and rule. */
  ruleId: z.string(),
  severity: Severity,
  /** Event time of the reading (or timer) that caused this signal, Unix ms. */
  at: z.number().int(),
  deviceId: z.string().nullable(),
  /** Short human summary in English; the UI localises by ruleId and evidence. */
  summary: z.string(),
  /** The facts behind it (values, thresholds, durations), for the console and the audit trail. */
  evidence: z.record(z.string(), z.unknown()),
  /** Whether the alert may close itself when the condition clears (false for SOS and falls). */
  autoClear: z.boolean(),
});
export type AlertSignal = z.infer<typeof AlertSignal>;
