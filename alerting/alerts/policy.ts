// Escalation policy: whom to tell, when, and how often to remind until someone acknowledges. One default
// for every community, optionally replaced per community; written as YAML or JSON and checked by zod.
// As in the rule files, durations carry their unit in the name and objects are strict, so a misspelt key
// is refused instead of silently ignored.
import { z } from 'zod';
import { loadConfigFile, parseConfigText } from '../../ops/config-file.ts';
import { CONTACT_RELATIONS } from '../../registry/index.ts';
import { Severity } from '../signals.ts';

/** 'console' is the community's staff room on the live console; the others are registry contact relations. */
export const Audience = z.enum(['console', ...CONTACT_RELATIONS]);
export type Audience = z.infer<typeof Audience>;

const MINUTES_MS = 60_000;
const minutes = z
  .number()
  .min(0)
  .max(7 * 1440);

export const EscalationStep = z.strictObject({
  /** Minutes after the alert opened. */
  afterMin: minutes,
  notify: z.array(Audience).default([]),
  /** Only contacts with escalation_order at or below this (1 is told first); all when absent. */
  maxContactOrder: z.number().int().min(1).optional(),
  /** Webhook ids (configured on the webhook channel) to call at this step. */
  webhooks: z.array(z.string().min(1)).default([]),
  /** The step waits while the alert is less severe than this, and goes out once it rises. */
  minSeverity: Severity.default('info'),
});
export type EscalationStep = z.infer<typeof EscalationStep>;

export const EscalationPolicy = z
  .strictObject({
    steps: z.array(EscalationStep).min(1),
    /** Remind everyone told so far this often until someone acknowledges; null never reminds. */
    renotifyEveryMin: minutes.positive().nullable().default(5),
    /**
     * Each contact is tried on the first channel that reaches them (e-mail, SMS, voice); when it fails,
     * on their next, then the next person in the resident's contact order. false: every channel at once.
     */
    failover: z.boolean().default(true),
    /**
     * How soon a person should take on an alarm or a critical alert (Hangzhou's gas alarms: 5 minutes,
     * DOMAIN.md). The community reports measure against it; a severity left out follows the default
     * policy's, then DEFAULT_TAKE_ON_TARGET_MIN.
     */
    takeOnTargetMin: z
      .strictObject({ alarm: minutes.positive(), critical: minutes.positive() })
      .partial()
      .optional(),
  })
  .refine((p) => p.steps.every((s, i) => i === 0 || s.afterMin >= p.steps[i - 1]!.afterMin), {
    message: 'steps must be in order of their afterMin',
    path: ['steps'],
  });
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;
export type EscalationPolicyInput = z.input<typeof EscalationPolicy>;

export const DEFAULT_POLICY_INPUT: EscalationPolicyInput = {
  steps: [
    { afterMin: 0, notify: ['console'] },
    // Family and grid workers are woken for alarms, not for every warning: alarm fatigue is the main
    // failure of monitoring systems (DOMAIN.md).
    { afterMin: 2, notify: ['family'], minSeverity: 'alarm' },
    { afterMin: 5, notify: ['grid_worker', 'staff'], minSeverity: 'alarm' },
  ],
  renotifyEveryMin: 5,
};

export const EscalationPolicies = z.strictObject({
  default: EscalationPolicy.default(EscalationPolicy.parse(DEFAULT_POLICY_INPUT)),
  /** Community id to its own policy, replacing the default whole. */
  communities: z.record(z.string(), EscalationPolicy).default({}),
});
export type EscalationPolicies = z.infer<typeof EscalationPolicies>;

export const DEFAULT_POLICIES: EscalationPolicies = EscalationPolicies.parse({});

/** Milliseconds from a policy's minutes. */
export function minutesToMs(min: number): number {
  return Math.round(min * MINUTES_MS);
}

export function policyFor(policies: EscalationPolicies, communityId: string | null): EscalationPolicy {
  return (communityId !== null && policies.communities[communityId]) || policies.default;
}

export const DEFAULT_TAKE_ON_TARGET_MIN = 5;

export interface TakeOnTargets {
  alarm: number;
  critical: number;
}

/** A community's take-on target per severity, in ms: its own policy's, else the default policy's, else 5 min. */
export function takeOnTargetsMs(policies: EscalationPolicies, communityId: string | null): TakeOnTargets {
  const own = communityId !== null ? policies.communities[communityId]?.takeOnTargetMin : undefined;
  const fallback = policies.default.takeOnTargetMin;
  const pick = (severity: keyof TakeOnTargets) =>
    minutesToMs(own?.[severity] ?? fallback?.[severity] ?? DEFAULT_TAKE_ON_TARGET_MIN);
  return { alarm: pick('alarm'), critical: pick('critical') };
}

/** Parses a policy file's text (YAML, of which JSON is a subset); throws an Error naming each problem. */
export function parseEscalationPolicies(text: string, source = 'escalation policy'): EscalationPolicies {
  return parseConfigText(EscalationPolicies, text, source);
}

export function loadEscalationPolicies(file: string): EscalationPolicies {
  return loadConfigFile(EscalationPolicies, file);
}
