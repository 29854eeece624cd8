// The report's figures from the rows the queries return: pure functions, so that a test can check them
// against a computation of its own, and the same figures serve the page, the CSV and the PDF.
import type { ReportAlertRow } from '../../alerting/alerts/report-queries.ts';
import type { EscalationPolicy } from '../../alerting/alerts/policy.ts';
import { SYSTEM_ACTOR } from '../../alerting/alerts/schemas.ts';
import type { FleetByKind } from '../../registry/fleet-report.ts';
import { localDay } from './period.ts';
import type { CommunityReport, RuleOutcomes, Timing } from './schemas.ts';

export const DEFAULT_TARGET_MS = 5 * 60_000;
const URGENT: ReadonlySet<string> = new Set(['alarm', 'critical']);

/** Nearest-rank percentile (p in 0..1) of the values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/**
 * When a person took the alert on: acknowledged it, or resolved it without acknowledging first.
 * An alert the system closed by itself (the condition cleared) was never taken on.
 */
export function takenOnAt(a: ReportAlertRow): number | null {
  if (a.acknowledgedAt !== null) return a.acknowledgedAt;
  if (a.resolvedAt !== null && a.resolvedBy !== null && a.resolvedBy !== SYSTEM_ACTOR) return a.resolvedAt;
  return null;
}

function timing(durations: number[]): Timing {
  return { count: durations.length, p50Ms: percentile(durations, 0.5), p90Ms: percentile(durations, 0.9) };
}

function takeOnTimes(rows: readonly ReportAlertRow[]): number[] {
  return rows.flatMap((a) => {
    const at = takenOnAt(a);
    return at === null ? [] : [at - a.openedAt];
  });
}

function resolveTimes(rows: readonly ReportAlertRow[]): number[] {
  return rows.flatMap((a) => (a.resolvedAt === null ? [] : [a.resolvedAt - a.openedAt]));
}

function emptyBySeverity() {
  return { info: 0, warning: 0, alarm: 0, critical: 0 };
}

export function ruleOutcomes(rows: readonly ReportAlertRow[]): RuleOutcomes[] {
  const byRule = new Map<string, RuleOutcomes>();
  for (const a of rows) {
    let r = byRule.get(a.ruleId);
    if (!r) {
      r = {
        ruleId: a.ruleId,
        alerts: 0,
        emergency: 0,
        falseAlarm: 0,
        deviceFault: 0,
        other: 0,
        noOutcome: 0,
        falseAlarmShare: null,
      };
      byRule.set(a.ruleId, r);
    }
    r.alerts++;
    if (a.outcome === 'emergency') r.emergency++;
    else if (a.outcome === 'false_alarm') r.falseAlarm++;
    else if (a.outcome === 'device_fault') r.deviceFault++;
    else if (a.outcome === 'other') r.other++;
    else r.noOutcome++;
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
  alerts: readonly ReportAlertRow[];
  deliveries: readonly { channel: string; ok: boolean; count: number }[];
  fleet: readonly FleetByKind[];
  policy: EscalationPolicy;
  timeZone: string;
  days: readonly string[];
  targetMs: number;
}

type Figures = Omit<CommunityReport, 'community' | 'period' | 'generatedAt'>;

export function computeFigures(input: FigureInputs): Figures {
  const { alerts, timeZone } = input;
  const totals = { alerts: alerts.length, bySeverity: emptyBySeverity() };
  const perDay = new Map(
    input.days.map((day) => [
      day,
      { day, bySeverity: emptyBySeverity(), byRule: {} as Record<string, number> },
    ]),
  );
  for (const a of alerts) {
    totals.bySeverity[a.severity]++;
    const day = perDay.get(localDay(a.openedAt, timeZone));
    if (!day) continue;
    day.bySeverity[a.severity]++;
    day.byRule[a.ruleId] = (day.byRule[a.ruleId] ?? 0) + 1;
  }

  const urgent = alerts.filter((a) => URGENT.has(a.severity));
  const urgentTakeOn = takeOnTimes(urgent);
  const within = urgentTakeOn.filter((ms) => ms <= input.targetMs).length;

  const rules = ruleOutcomes(alerts);
  const closed = rules.reduce((n, r) => n + r.alerts - r.noOutcome, 0);
  const falseAlarms = rules.reduce((n, r) => n + r.falseAlarm, 0);

  const escalation = input.policy.steps.map((step, i) => {
    const reached = alerts.filter((a) => a.escalationStep !== null && a.escalationStep >= i).length;
    return { step: i, notify: [...step.notify], alerts: reached, share: share(reached, alerts.length) };
  });

  const deliveries = new Map<string, { channel: string; ok: number; failed: number }>();
  for (const d of input.deliveries) {
    const entry = deliveries.get(d.channel) ?? { channel: d.channel, ok: 0, failed: 0 };
    if (d.ok) entry.ok += d.count;
    else entry.failed += d.count;
    deliveries.set(d.channel, entry);
  }

  const devicesWith = (ruleId: string) =>
    new Set(alerts.filter((a) => a.ruleId === ruleId).map((a) => a.deviceId ?? `resident:${a.residentId}`))
      .size;
  const active = input.fleet.reduce((n, k) => n + k.active, 0);
  const online = input.fleet.reduce((n, k) => n + k.online, 0);

  return {
    targetMs: input.targetMs,
    totals,
    perDay: [...perDay.values()],
    response: {
      urgent: {
        takeOn: {
          ...timing(urgentTakeOn),
          of: urgent.length,
          withinTarget: within,
          withinTargetShare: share(within, urgent.length),
          notTakenOn: urgent.length - urgentTakeOn.length,
        },
        resolve: timing(resolveTimes(urgent)),
      },
      all: { takeOn: timing(takeOnTimes(alerts)), resolve: timing(resolveTimes(alerts)) },
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
      offlineIncidents: alerts.filter((a) => a.ruleId === 'device.offline').length,
      lowBatteryDevices: devicesWith('device.battery'),
      notWornDevices: devicesWith('device.not_worn'),
    },
  };
}
