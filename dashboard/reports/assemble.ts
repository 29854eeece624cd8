// Assembles one community's report for a period: the community and its fleet from the registry, the
// alerts opened in the period and their notifications from the alert tables, then the figures.
import {
  policyFor,
  DEFAULT_POLICIES,
  takeOnTargetsMs,
  type EscalationPolicies,
} from '../../alerting/alerts/policy.ts';
import {
  alertsPerDay,
  deliveriesFor,
  durationHistogram,
  escalationSteps,
  outcomesPerRule,
  subjectsPerRule,
  urgentAgainstTarget,
} from '../../alerting/alerts/report-queries.ts';
import type { Sql } from '../../database/sql.ts';
import { communityFacts, fleetOf } from '../../registry/fleet-report.ts';
import { computeFigures } from './figures.ts';
import { daysOf, monthPeriod, offsetRanges, type Period } from './period.ts';
import type { CommunityReport } from './schemas.ts';

/** The rules' default zone, for a community that names none. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
/** Rules whose devices the fleet figures count: batteries low, wearables not worn. */
const DEVICE_RULES = ['device.battery', 'device.not_worn'];
/** A year and a bit: longer periods are refused rather than read whole. */
export const MAX_PERIOD_MS = 400 * 86_400_000;

export class ReportError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'ReportError';
  }
}

export interface ReportSources {
  registry: Sql;
  alerts: Sql;
  /** The escalation policies (notifications file): each community's steps and take-on targets. */
  policies?: EscalationPolicies;
  now?: () => number;
}

export type PeriodRequest = { month: string } | Period;

export async function buildCommunityReport(
  sources: ReportSources,
  communityId: string,
  request: PeriodRequest,
): Promise<CommunityReport> {
  const facts = await communityFacts(sources.registry, communityId);
  if (!facts) throw new ReportError('not_found', `no community ${communityId}`);
  const timeZone = facts.timeZone ?? DEFAULT_TIME_ZONE;
  let period: Period;
  try {
    period = 'month' in request ? monthPeriod(request.month, timeZone) : request;
  } catch (err) {
    throw new ReportError('invalid', (err as Error).message);
  }
  if (!(period.from < period.to)) throw new ReportError('invalid', 'the period must end after it begins');
  if (period.to - period.from > MAX_PERIOD_MS)
    throw new ReportError('invalid', 'a report covers at most 400 days');

  const range = { communityId, ...period };
  const policies = sources.policies ?? DEFAULT_POLICIES;
  const targetMs = takeOnTargetsMs(policies, communityId);
  const [perDay, outcomes, durations, target, steps, deliveries, deviceRules, fleet] = await Promise.all([
    alertsPerDay(sources.alerts, range, offsetRanges(period, timeZone)),
    outcomesPerRule(sources.alerts, range),
    durationHistogram(sources.alerts, range),
    urgentAgainstTarget(sources.alerts, range, targetMs),
    escalationSteps(sources.alerts, range),
    deliveriesFor(sources.alerts, range),
    subjectsPerRule(sources.alerts, range, DEVICE_RULES),
    fleetOf(sources.registry, communityId),
  ]);
  const days = daysOf(period, timeZone);
  return {
    community: { id: facts.id, name: facts.name, timeZone, residents: facts.residents },
    period: { ...period, days },
    generatedAt: (sources.now ?? Date.now)(),
    ...computeFigures({
      perDay,
      outcomes,
      durations,
      target,
      steps,
      deliveries,
      deviceRules,
      fleet,
      policy: policyFor(policies, communityId),
      days,
      targetMs,
    }),
  };
}
