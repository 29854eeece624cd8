// The community report as data: what the operations page, the CLI (JSON, CSV, PDF) and the API share.
// Times are Unix ms; durations ms; shares 0..1 (null when there is nothing to divide by).
import { z } from 'zod';

export const REPORT_LANGUAGES = ['zh-CN', 'en'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

const Share = z.number().min(0).max(1).nullable();
const Ms = z.number().nullable().meta({ description: 'Milliseconds; null without data.' });
const Count = z.number().int();
const BySeverity = z.object({ info: Count, warning: Count, alarm: Count, critical: Count });

export const Timing = z.object({
  /** Alerts with a time of this kind. */
  count: z.number().int(),
  p50Ms: Ms,
  p90Ms: Ms,
});

export const TakeOn = Timing.extend({
  /** Alerts counted against the target: every one of them opened in the period. */
  of: z.number().int(),
  withinTarget: z.number().int(),
  withinTargetShare: Share,
  /** Never taken on by a person: cleared by themselves, or still open. */
  notTakenOn: z.number().int(),
  /** The same against each severity's own target. */
  bySeverity: z.object({
    alarm: z.object({ of: Count, withinTarget: Count, withinTargetShare: Share }),
    critical: z.object({ of: Count, withinTarget: Count, withinTargetShare: Share }),
  }),
});

export const RuleOutcomes = z.object({
  ruleId: z.string(),
  alerts: z.number().int(),
  emergency: z.number().int(),
  falseAlarm: z.number().int(),
  deviceFault: z.number().int(),
  other: z.number().int(),
  /** Resolved without an outcome (cleared by themselves) or not resolved yet. */
  noOutcome: z.number().int(),
  /** False alarms among alerts closed with an outcome. */
  falseAlarmShare: Share,
});

export const CommunityReport = z.object({
  community: z.object({
    id: z.string(),
    name: z.string(),
    timeZone: z.string(),
    residents: z.number().int(),
  }),
  period: z.object({
    from: z.number().int(),
    to: z.number().int(),
    /** Local days of the period, YYYY-MM-DD. */
    days: z.array(z.string()),
  }),
  generatedAt: z.number().int(),
  targetMs: z
    .object({ alarm: Count, critical: Count })
    .meta({ description: "Take-on target per severity, from the community's escalation policy." }),
  totals: z.object({ alerts: z.number().int(), bySeverity: BySeverity }),
  perDay: z.array(
    z.object({
      day: z.string(),
      bySeverity: BySeverity,
      byRule: z.record(z.string(), z.number().int()),
    }),
  ),
  response: z.object({
    /** Alarm and critical alerts, measured against the target. */
    urgent: z.object({ takeOn: TakeOn, resolve: Timing }),
    all: z.object({ takeOn: Timing, resolve: Timing }),
  }),
  /** Worst first: highest false-alarm share, then most alerts. */
  rules: z.array(RuleOutcomes),
  falseAlarmShare: Share,
  escalation: z.array(
    z.object({
      step: z.number().int(),
      notify: z.array(z.string()),
      alerts: z.number().int(),
      share: Share,
    }),
  ),
  deliveries: z.array(z.object({ channel: z.string(), ok: z.number().int(), failed: z.number().int() })),
  fleet: z.object({
    kinds: z.array(z.object({ kind: z.string(), active: z.number().int(), online: z.number().int() })),
    active: z.number().int(),
    online: z.number().int(),
    onlineShare: Share,
    offlineIncidents: z.number().int(),
    lowBatteryDevices: z.number().int(),
    notWornDevices: z.number().int(),
  }),
});
export type CommunityReport = z.infer<typeof CommunityReport>;
export type Timing = z.infer<typeof Timing>;
export type RuleOutcomes = z.infer<typeof RuleOutcomes>;
