// Read-only queries the community reports need from the alert tables, for the alerts of one community
// opened in a period. Each returns counts grouped in SQL (a year of a large community is 100,000 alerts:
// their rows are never fetched), in portable SQL for SQLite and PostgreSQL; the caller turns them into
// figures (percentiles, shares, local days).
import type { Sql } from '../../database/sql.ts';
import { SYSTEM_ACTOR } from './schemas.ts';

export interface ReportPeriod {
  communityId: string;
  /** Inclusive, Unix ms. */
  from: number;
  /** Exclusive, Unix ms. */
  to: number;
}

/** Part of a period in which the community's zone keeps one offset from UTC. */
export interface OffsetRange {
  from: number;
  to: number;
  /** Local time minus UTC, ms. */
  offsetMs: number;
}

const DAY_MS = 86_400_000;

// Served by the alerts_for_reports index (alerts migration 4), which covers every column the report reads.
const IN_PERIOD = `a.community_id = ? AND a.opened_at >= ? AND a.opened_at < ?`;
const inPeriod = (p: { communityId: string; from: number; to: number }): [string, number, number] => [
  p.communityId,
  p.from,
  p.to,
];

/**
 * When a person took the alert on: acknowledged it, or resolved it without acknowledging first. An alert
 * the system closed by itself (its condition cleared) was never taken on.
 */
const TAKEN_ON_AT = `COALESCE(a.acknowledged_at,
  CASE WHEN a.resolved_by IS NOT NULL AND a.resolved_by <> '${SYSTEM_ACTOR}' THEN a.resolved_at END)`;
const URGENT = `CASE WHEN a.severity IN ('alarm', 'critical') THEN 1 ELSE 0 END`;

const num = (v: unknown) => Number(v);

export interface DayCount {
  /** Local days since 1970-01-01. */
  day: number;
  ruleId: string;
  severity: 'info' | 'warning' | 'alarm' | 'critical';
  count: number;
}

/** Alerts per local day, rule and severity; one query per stretch of the period with one UTC offset. */
export async function alertsPerDay(
  db: Sql,
  period: ReportPeriod,
  ranges: readonly OffsetRange[],
): Promise<DayCount[]> {
  const out: DayCount[] = [];
  for (const range of ranges) {
    const rows = await db.all<{ day: number; ruleId: string; severity: DayCount['severity']; count: number }>(
      `SELECT (a.opened_at + ?) / ${DAY_MS} AS day, a.rule_id AS "ruleId", a.severity, COUNT(*) AS count
         FROM alerts a
        WHERE ${IN_PERIOD}
        GROUP BY 1, 2, 3`,
      [range.offsetMs, ...inPeriod({ ...period, ...range })],
    );
    for (const r of rows) out.push({ ...r, day: num(r.day), count: num(r.count) });
  }
  return out;
}

export interface OutcomeCount {
  ruleId: string;
  outcome: 'emergency' | 'false_alarm' | 'device_fault' | 'other' | null;
  count: number;
}

/** Alerts per rule and outcome (null: cleared by itself, or not resolved yet). */
export async function outcomesPerRule(db: Sql, period: ReportPeriod): Promise<OutcomeCount[]> {
  const rows = await db.all<OutcomeCount>(
    `SELECT a.rule_id AS "ruleId", a.outcome, COUNT(*) AS count
       FROM alerts a
      WHERE ${IN_PERIOD}
      GROUP BY a.rule_id, a.outcome`,
    inPeriod(period),
  );
  return rows.map((r) => ({ ...r, count: num(r.count) }));
}

/** Distinct devices (or residents, for alerts about no device) with an alert of each of the given rules. */
export async function subjectsPerRule(
  db: Sql,
  period: ReportPeriod,
  ruleIds: readonly string[],
): Promise<Map<string, number>> {
  if (ruleIds.length === 0) return new Map();
  const rows = await db.all<{ ruleId: string; subjects: number }>(
    `SELECT a.rule_id AS "ruleId", COUNT(DISTINCT COALESCE(a.device_id, a.resident_id)) AS subjects
       FROM alerts a
      WHERE ${IN_PERIOD} AND a.rule_id IN (${ruleIds.map(() => '?').join(', ')})
      GROUP BY a.rule_id`,
    [...inPeriod(period), ...ruleIds],
  );
  return new Map(rows.map((r) => [r.ruleId, num(r.subjects)]));
}

/** Alerts by the furthest escalation step decided for them (null: none was). */
export async function escalationSteps(
  db: Sql,
  period: ReportPeriod,
): Promise<{ step: number | null; count: number }[]> {
  const rows = await db.all<{ step: number | null; count: number }>(
    `SELECT a.escalation_step AS step, COUNT(*) AS count
       FROM alerts a
      WHERE ${IN_PERIOD}
      GROUP BY a.escalation_step`,
    inPeriod(period),
  );
  return rows.map((r) => ({ step: r.step === null ? null : num(r.step), count: num(r.count) }));
}

export interface DurationBucket {
  /** Alarm or critical. */
  urgent: boolean;
  kind: 'take_on' | 'resolve';
  /** Whole seconds from opening (floored). */
  seconds: number;
  count: number;
}

/** How long alerts took to be taken on and to be resolved, counted per whole second. */
export async function durationHistogram(db: Sql, period: ReportPeriod): Promise<DurationBucket[]> {
  const rows = await db.all<{ urgent: number; kind: DurationBucket['kind']; seconds: number; count: number }>(
    `SELECT ${URGENT} AS urgent, 'take_on' AS kind, (${TAKEN_ON_AT} - a.opened_at) / 1000 AS seconds,
            COUNT(*) AS count
       FROM alerts a
      WHERE ${IN_PERIOD} AND ${TAKEN_ON_AT} IS NOT NULL
      GROUP BY 1, 3
     UNION ALL
     SELECT ${URGENT} AS urgent, 'resolve' AS kind, (a.resolved_at - a.opened_at) / 1000 AS seconds,
            COUNT(*) AS count
       FROM alerts a
      WHERE ${IN_PERIOD} AND a.resolved_at IS NOT NULL
      GROUP BY 1, 3`,
    [...inPeriod(period), ...inPeriod(period)],
  );
  return rows.map((r) => ({
    urgent: num(r.urgent) === 1,
    kind: r.kind,
    seconds: num(r.seconds),
    count: num(r.count),
  }));
}

export interface TargetCount {
  severity: 'alarm' | 'critical';
  /** Alerts of this severity opened in the period. */
  of: number;
  /** Of them, taken on by a person at all... */
  takenOn: number;
  /** ...and within the severity's target. */
  within: number;
}

/** Alarm and critical alerts against their take-on targets, exactly (not from the histogram's seconds). */
export async function urgentAgainstTarget(
  db: Sql,
  period: ReportPeriod,
  targetMs: { alarm: number; critical: number },
): Promise<TargetCount[]> {
  const rows = await db.all<TargetCount>(
    `SELECT a.severity, COUNT(*) AS "of",
            SUM(CASE WHEN ${TAKEN_ON_AT} IS NOT NULL THEN 1 ELSE 0 END) AS "takenOn",
            SUM(CASE WHEN ${TAKEN_ON_AT} - a.opened_at
                          <= CASE a.severity WHEN 'critical' THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END
                     THEN 1 ELSE 0 END) AS within
       FROM alerts a
      WHERE ${IN_PERIOD} AND a.severity IN ('alarm', 'critical')
      GROUP BY a.severity`,
    [targetMs.critical, targetMs.alarm, ...inPeriod(period)],
  );
  return (['alarm', 'critical'] as const).map((severity) => {
    const row = rows.find((r) => r.severity === severity);
    return {
      severity,
      of: num(row?.of ?? 0),
      takenOn: num(row?.takenOn ?? 0),
      within: num(row?.within ?? 0),
    };
  });
}

export interface DeliveryCount {
  channel: string;
  ok: boolean;
  count: number;
}

/** Notification attempts for the alerts opened in the period, by channel and success. */
export async function deliveriesFor(db: Sql, period: ReportPeriod): Promise<DeliveryCount[]> {
  const rows = await db.all<{ channel: string; ok: number; count: number }>(
    `SELECT d.channel, d.ok, COUNT(*) AS count
       FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE ${IN_PERIOD}
      GROUP BY d.channel, d.ok
      ORDER BY d.channel, d.ok`,
    inPeriod(period),
  );
  return rows.map((r) => ({ channel: r.channel, ok: num(r.ok) === 1, count: num(r.count) }));
}
