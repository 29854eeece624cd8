// The report's figures from the counts the queries return: pure functions, so that a test can check them
// against a computation of its own, and the same figures serve the page, the CSV and the PDF.
import type {
  DayCount,
  DeliveryCount,
  DurationBucket,
  OutcomeCount,
  TargetCount,
} from '../../alerting/alerts/report-queries.ts';
import type { EscalationPolicy, TakeOnTargets } from '../../alerting/alerts/policy.ts';
import type { FleetByKind } from '../../registry/fleet-report.ts';
import type { CommunityReport, RuleOutcomes, Timing } from './schemas.ts';

const DAY_MS = 86_400_000;

/** Nearest-rank percentile (p in 0..1) of the values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** The same percentile from counts per whole second, in ms. */
export function histogramPercentile(
  buckets: readonly { seconds: number; count: number }[],
  p: number,
): number | null {
  const sorted = [...buckets].sort((a, b) => a.seconds - b.seconds);
  const n = sorted.reduce((sum, b) => sum + b.count, 0);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(p * n));
  let seen = 0;
  for (const b of sorted) {
    seen += b.count;
    if (seen >= rank) return b.seconds * 1000;
  }
  return null;
}

export function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function timing(buckets: readonly DurationBucket[]): Timing {
  return {
    count: buckets.reduce((n, b) => n + b.count, 0),
    p50Ms: histogramPercentile(buckets, 0.5),
    p90Ms: histogramPercentile(buckets, 0.9),
  };
}

function emptyBySeverity() {
  return { info: 0, warning: 0, alarm: 0, critical: 0 };
}

export function ruleOutcomes(counts: readonly OutcomeCount[]): RuleOutcomes[] {
  const byRule = new Map<string, RuleOutcomes>();
  for (const c of counts) {
    let r = byRule.get(c.ruleId);
    if (!r) {
      r = {
        ruleId: c.ruleId,
        alerts: 0,
        emergency: 0,
        falseAlarm: 0,
        deviceFault: 0,
        other: 0,
        noOutcome: 0,
        falseAlarmShare: null,
      };
      byRule.set(c.ruleId, r);
    }
    r.alerts += c.count;
    if (c.outcome === 'emergency') r.emergency += c.count;
    else if (c.outcome === 'false_alarm') r.falseAlarm += c.count;
    else if (c.outcome === 'device_fault') r.deviceFault += c.count;
    else if (c.outcome === 'other') r.other += c.count;
    else r.noOutcome += c.count;
  }
  const rules = [...byRule.values()];
  for (const r of rules) r.falseAlarmShare = share(r.falseAlarm, r.alerts - r.noOutcome);
  return rules.sort(
    (a, b) =>
      (b.falseAlarmShare ?? -1) - (a.falseAlarmShare ?? -1) ||
      b.alerts - a.alerts ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

export interface FigureInputs {
  perDay: readonly DayCount[];
  outcomes: readonly OutcomeCount[];
  durations: readonly DurationBucket[];
  /** Alarm and critical alerts against their targets, one count per severity. */
  target: readonly TargetCount[];
  steps: readonly { step: number | null; count: number }[];
  deliveries: readonly DeliveryCount[];
  /** Distinct devices with an alert of each device rule. */
  deviceRules: ReadonlyMap<string, number>;
  fleet: readonly FleetByKind[];
  policy: EscalationPolicy;
  /** Local days of the period, YYYY-MM-DD. */
  days: readonly string[];
  targetMs: TakeOnTargets;
}

type Figures = Omit<CommunityReport, 'community' | 'period' | 'generatedAt'>;

export function computeFigures(input: FigureInputs): Figures {
  const totals = { alerts: 0, bySeverity: emptyBySeverity() };
  const perDay = new Map(
    input.days.map((day) => [
      day,
      { day, bySeverity: emptyBySeverity(), byRule: {} as Record<string, number> },
    ]),
  );
  for (const c of input.perDay) {
    totals.alerts += c.count;
    totals.bySeverity[c.severity] += c.count;
    const day = perDay.get(new Date(c.day * DAY_MS).toISOString().slice(0, 10));
    if (!day) continue;
    day.bySeverity[c.severity] += c.count;
    day.byRule[c.ruleId] = (day.byRule[c.ruleId] ?? 0) + c.count;
  }

  const of = (urgent: boolean | null, kind: DurationBucket['kind']) =>
    input.durations.filter((b) => b.kind === kind && (urgent === null || b.urgent === urgent));
  const rules = ruleOutcomes(input.outcomes);
  const closed = rules.reduce((n, r) => n + r.alerts - r.noOutcome, 0);
  const falseAlarms = rules.reduce((n, r) => n + r.falseAlarm, 0);

  const escalation = input.policy.steps.map((step, i) => {
    const reached = input.steps.reduce((n, s) => n + (s.step !== null && s.step >= i ? s.count : 0), 0);
    return { step: i, notify: [...step.notify], alerts: reached, share: share(reached, totals.alerts) };
  });

  const deliveries = new Map<string, { channel: string; ok: number; failed: number }>();
  for (const d of input.deliveries) {
    const entry = deliveries.get(d.channel) ?? { channel: d.channel, ok: 0, failed: 0 };
    if (d.ok) entry.ok += d.count;
    else entry.failed += d.count;
    deliveries.set(d.channel, entry);
  }

  const active = input.fleet.reduce((n, k) => n + k.active, 0);
  const online = input.fleet.reduce((n, k) => n + k.online, 0);
  const bySeverity = (severity: TargetCount['severity']) => {
    const c = input.target.find((t) => t.severity === severity) ?? { of: 0, takenOn: 0, within: 0 };
    return { of: c.of, withinTarget: c.within, withinTargetShare: share(c.within, c.of) };
  };
  const target = input.target.reduce(
    (sum, t) => ({ of: sum.of + t.of, takenOn: sum.takenOn + t.takenOn, within: sum.within + t.within }),
    { of: 0, takenOn: 0, within: 0 },
  );

  return {
    targetMs: input.targetMs,
    totals,
    perDay: [...perDay.values()],
    response: {
      urgent: {
        takeOn: {
          ...timing(of(true, 'take_on')),
          of: target.of,
          withinTarget: target.within,
          withinTargetShare: share(target.within, target.of),
          notTakenOn: target.of - target.takenOn,
          bySeverity: { alarm: bySeverity('alarm'), critical: bySeverity('critical') },
        },
        resolve: timing(of(true, 'resolve')),
      },
      all: { takeOn: timing(of(null, 'take_on')), resolve: timing(of(null, 'resolve')) },
    },
    rules,
    falseAlarmShare: share(falseAlarms, closed),
    escalation,
    deliveries: [...deliveries.values()],
    fleet: {
      kinds: input.fleet.map(({ kind, active, online }) => ({ kind, active, online })),
      active,
      online,
      onlineShare: share(online, active),
      offlineIncidents: rules.find((r) => r.ruleId === 'device.offline')?.alerts ?? 0,
      lowBatteryDevices: input.deviceRules.get('device.battery') ?? 0,
      notWornDevices: input.deviceRules.get('device.not_worn') ?? 0,
    },
  };
}
