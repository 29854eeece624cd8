// Read-only queries the community reports need from the alert tables: the alerts opened in a period with
// their lifecycle times, and the notifications sent for them. Portable SQL for SQLite and PostgreSQL;
// figures (percentiles, shares, local days) are computed by the caller from these rows.
import type { Sql } from '../../database/sql.ts';

export interface ReportPeriod {
  communityId: string;
  /** Inclusive, Unix ms. */
  from: number;
  /** Exclusive, Unix ms. */
  to: number;
}

/** One alert opened in the period, as a report reads it. */
export interface ReportAlertRow {
  id: string;
  residentId: string;
  deviceId: string | null;
  ruleId: string;
  severity: 'info' | 'warning' | 'alarm' | 'critical';
  openedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  outcome: 'emergency' | 'false_alarm' | 'device_fault' | 'other' | null;
  /** The furthest escalation step decided; null when none was. */
  escalationStep: number | null;
}

export interface DeliveryCount {
  channel: string;
  ok: boolean;
  count: number;
}

// An alert opened at or after `from` was last updated at or after `from` too, so the condition on
// updated_at lets both backends use the (community_id, updated_at) index of the alert tables.
const IN_PERIOD = `a.community_id = ? AND a.updated_at >= ? AND a.opened_at >= ? AND a.opened_at < ?`;

function periodParams(p: ReportPeriod): [string, number, number, number] {
  return [p.communityId, p.from, p.from, p.to];
}

/** Alerts of the community opened in [from, to), oldest first. */
export async function alertsOpenedIn(db: Sql, period: ReportPeriod): Promise<ReportAlertRow[]> {
  return db.all<ReportAlertRow>(
    `SELECT a.id, a.resident_id AS "residentId", a.device_id AS "deviceId", a.rule_id AS "ruleId",
            a.severity, a.opened_at AS "openedAt", a.acknowledged_at AS "acknowledgedAt",
            a.resolved_at AS "resolvedAt", a.resolved_by AS "resolvedBy", a.outcome,
            a.escalation_step AS "escalationStep"
       FROM alerts a
      WHERE ${IN_PERIOD}
      ORDER BY a.opened_at, a.id`,
    periodParams(period),
  );
}

/** Notification attempts for the alerts opened in the period, by channel and success. */
export async function deliveriesFor(db: Sql, period: ReportPeriod): Promise<DeliveryCount[]> {
  const rows = await db.all<{ channel: string; ok: number; count: number }>(
    `SELECT d.channel, d.ok, COUNT(*) AS count
       FROM deliveries d JOIN alerts a ON a.id = d.alert_id
      WHERE ${IN_PERIOD}
      GROUP BY d.channel, d.ok
      ORDER BY d.channel, d.ok`,
    periodParams(period),
  );
  return rows.map((r) => ({ channel: r.channel, ok: Number(r.ok) === 1, count: Number(r.count) }));
}
