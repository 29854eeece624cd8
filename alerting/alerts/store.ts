// The alerts database's SQL: synchronous reads and writes on prepared statements. AlertService and the
// escalator compose these into transactions; nothing here decides anything.
import type { Database } from 'better-sqlite3';
import {
  DeliveryReceipt,
  Recipient,
  type Alert,
  type AlertState,
  type AuditAction,
  type AuditEntry,
  type ChannelName,
  type Delivery,
  type Outcome,
} from './schemas.ts';
import type { Severity } from '../signals.ts';

interface AlertRow {
  id: string;
  resident_id: string;
  community_id: string | null;
  rule_id: string;
  severity: Severity;
  state: AlertState;
  opened_at: number;
  updated_at: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  outcome: Outcome | null;
  note: string | null;
  summary: string;
  evidence: string;
  device_id: string | null;
  escalation_step: number | null;
  auto_clear: number;
  repeat_count: number;
}

interface AuditRow {
  id: number;
  alert_id: string;
  at: number;
  actor: string;
  action: AuditAction;
  details: string;
}

interface DeliveryRow {
  id: number;
  alert_id: string;
  step: number;
  round: number;
  channel: ChannelName;
  recipient: string;
  address: string;
  attempt: number;
  at: number;
  ok: number;
  error: string | null;
  receipt: string | null;
}

interface OutboxRow {
  id: number;
  alert_id: string;
  step: number;
  round: number;
  at: number;
  recipient: string;
}

/** The next escalation action of one alert; `dueAt` null while the step waits for a higher severity. */
export interface EscalationRow {
  alertId: string;
  startedAt: number;
  step: number;
  round: number;
  dueAt: number | null;
}

export interface OutboxItem {
  id: number;
  alertId: string;
  step: number;
  round: number;
  at: number;
  recipient: Recipient;
}

export type NewDelivery = Omit<Delivery, 'id'>;

function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    residentId: row.resident_id,
    communityId: row.community_id,
    ruleId: row.rule_id,
    severity: row.severity,
    state: row.state,
    openedAt: row.opened_at,
    updatedAt: row.updated_at,
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at,
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at,
    outcome: row.outcome,
    note: row.note,
    summary: row.summary,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    deviceId: row.device_id,
    escalationStep: row.escalation_step,
    autoClear: row.auto_clear === 1,
    repeatCount: row.repeat_count,
  };
}

function alertParams(alert: Alert) {
  return { ...alert, evidence: JSON.stringify(alert.evidence), autoClear: alert.autoClear ? 1 : 0 };
}

function toAudit(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    alertId: row.alert_id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    alertId: row.alert_id,
    step: row.step,
    round: row.round,
    channel: row.channel,
    recipient: row.recipient,
    address: row.address,
    attempt: row.attempt,
    at: row.at,
    ok: row.ok === 1,
    error: row.error,
    receipt: row.receipt === null ? null : DeliveryReceipt.parse(JSON.parse(row.receipt)),
  };
}

function toOutbox(row: OutboxRow): OutboxItem {
  return {
    id: row.id,
    alertId: row.alert_id,
    step: row.step,
    round: row.round,
    at: row.at,
    recipient: Recipient.parse(JSON.parse(row.recipient)),
  };
}

export interface ListQuery {
  residentIds: string[] | undefined;
  communityIds: string[] | undefined;
  state: AlertState | 'active' | undefined;
  since: number | undefined;
  limit: number;
}

export class AlertStore {
  private readonly stmt;

  constructor(private readonly db: Database) {
    this.stmt = {
      get: db.prepare<[string], AlertRow>('SELECT * FROM alerts WHERE id = ?'),
      active: db.prepare<[string, string], AlertRow>(
        "SELECT * FROM alerts WHERE resident_id = ? AND rule_id = ? AND state != 'resolved'",
      ),
      insert: db.prepare(
        `INSERT INTO alerts (id, resident_id, community_id, rule_id, severity, state, opened_at, updated_at,
           acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome, note, summary, evidence,
           device_id, escalation_step, auto_clear, repeat_count)
         VALUES (:id, :residentId, :communityId, :ruleId, :severity, :state, :openedAt, :updatedAt,
           :acknowledgedBy, :acknowledgedAt, :resolvedBy, :resolvedAt, :outcome, :note, :summary, :evidence,
           :deviceId, :escalationStep, :autoClear, :repeatCount)`,
      ),
      update: db.prepare(
        `UPDATE alerts SET severity = :severity, state = :state, updated_at = :updatedAt,
           acknowledged_by = :acknowledgedBy, acknowledged_at = :acknowledgedAt, resolved_by = :resolvedBy,
           resolved_at = :resolvedAt, outcome = :outcome, note = :note, summary = :summary,
           evidence = :evidence, device_id = :deviceId, escalation_step = :escalationStep,
           auto_clear = :autoClear, repeat_count = :repeatCount
         WHERE id = :id`,
      ),
      list: db.prepare<
        {
          residents: string | null;
          communities: string | null;
          state: string | null;
          since: number | null;
          limit: number;
        },
        AlertRow
      >(
        `SELECT * FROM alerts
         WHERE (:residents IS NULL OR resident_id IN (SELECT value FROM json_each(:residents)))
           AND (:communities IS NULL OR community_id IN (SELECT value FROM json_each(:communities)))
           AND (:state IS NULL OR state = :state OR (:state = 'active' AND state != 'resolved'))
           AND (:since IS NULL OR updated_at >= :since)
         ORDER BY updated_at DESC, id DESC
         LIMIT :limit`,
      ),
      appendAudit: db.prepare<[string, number, string, string, string], AuditRow>(
        'INSERT INTO audit (alert_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ),
      history: db.prepare<[string], AuditRow>('SELECT * FROM audit WHERE alert_id = ? ORDER BY id'),
      getEscalation: db.prepare<[string], EscalationRow>(
        `SELECT alert_id AS alertId, started_at AS startedAt, step, round, due_at AS dueAt
         FROM escalations WHERE alert_id = ?`,
      ),
      putEscalation: db.prepare(
        `INSERT INTO escalations (alert_id, started_at, step, round, due_at)
         VALUES (:alertId, :startedAt, :step, :round, :dueAt)
         ON CONFLICT (alert_id) DO UPDATE SET step = :step, round = :round, due_at = :dueAt`,
      ),
      deleteEscalation: db.prepare('DELETE FROM escalations WHERE alert_id = ?'),
      nextDue: db.prepare<[number], EscalationRow>(
        `SELECT alert_id AS alertId, started_at AS startedAt, step, round, due_at AS dueAt
         FROM escalations WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, alert_id LIMIT 1`,
      ),
      earliestDue: db.prepare<[], { dueAt: number | null }>(
        'SELECT MIN(due_at) AS dueAt FROM escalations WHERE due_at IS NOT NULL',
      ),
      insertOutbox: db.prepare<[string, number, number, number, string], OutboxRow>(
        'INSERT INTO outbox (alert_id, step, round, at, recipient) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ),
      pendingOutbox: db.prepare<[], OutboxRow>('SELECT * FROM outbox WHERE done_at IS NULL ORDER BY id'),
      outboxDone: db.prepare('UPDATE outbox SET done_at = ? WHERE id = ? AND done_at IS NULL'),
      cancelOutbox: db.prepare('UPDATE outbox SET done_at = ? WHERE alert_id = ? AND done_at IS NULL'),
      insertDelivery: db.prepare(
        `INSERT INTO deliveries (alert_id, step, round, channel, recipient, address, attempt, at, ok, error,
           receipt)
         VALUES (:alertId, :step, :round, :channel, :recipient, :address, :attempt, :at, :ok, :error,
           :receipt)`,
      ),
      deliveries: db.prepare<[string], DeliveryRow>(
        'SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id',
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  get(id: string): Alert | undefined {
    const row = this.stmt.get.get(id);
    return row && toAlert(row);
  }

  /** The unresolved alert of this resident and rule, if any. */
  active(residentId: string, ruleId: string): Alert | undefined {
    const row = this.stmt.active.get(residentId, ruleId);
    return row && toAlert(row);
  }

  insert(alert: Alert): void {
    this.stmt.insert.run(alertParams(alert));
  }

  update(alert: Alert): void {
    this.stmt.update.run(alertParams(alert));
  }

  list(query: ListQuery): Alert[] {
    return this.stmt.list
      .all({
        residents: query.residentIds ? JSON.stringify(query.residentIds) : null,
        communities: query.communityIds ? JSON.stringify(query.communityIds) : null,
        state: query.state ?? null,
        since: query.since ?? null,
        limit: query.limit,
      })
      .map(toAlert);
  }

  appendAudit(
    alertId: string,
    at: number,
    actor: string,
    action: AuditAction,
    details: Record<string, unknown>,
  ): AuditEntry {
    return toAudit(this.stmt.appendAudit.get(alertId, at, actor, action, JSON.stringify(details))!);
  }

  history(alertId: string): AuditEntry[] {
    return this.stmt.history.all(alertId).map(toAudit);
  }

  escalation(alertId: string): EscalationRow | undefined {
    return this.stmt.getEscalation.get(alertId);
  }

  putEscalation(row: EscalationRow): void {
    this.stmt.putEscalation.run(row);
  }

  deleteEscalation(alertId: string): void {
    this.stmt.deleteEscalation.run(alertId);
  }

  /** The earliest escalation due at or before `upTo`. */
  nextDue(upTo: number): EscalationRow | undefined {
    return this.stmt.nextDue.get(upTo);
  }

  earliestDue(): number | null {
    return this.stmt.earliestDue.get()?.dueAt ?? null;
  }

  addToOutbox(alertId: string, step: number, round: number, at: number, recipient: Recipient): OutboxItem {
    return toOutbox(this.stmt.insertOutbox.get(alertId, step, round, at, JSON.stringify(recipient))!);
  }

  pendingOutbox(): OutboxItem[] {
    return this.stmt.pendingOutbox.all().map(toOutbox);
  }

  /** Marks an outbox item sent; false when it was already done (cancelled meanwhile, or sent). */
  markOutboxDone(id: number, at: number): boolean {
    return this.stmt.outboxDone.run(at, id).changes === 1;
  }

  cancelOutbox(alertId: string, at: number): void {
    this.stmt.cancelOutbox.run(at, alertId);
  }

  addDelivery(delivery: NewDelivery): void {
    this.stmt.insertDelivery.run({
      ...delivery,
      ok: delivery.ok ? 1 : 0,
      receipt: delivery.receipt ? JSON.stringify(delivery.receipt) : null,
    });
  }

  deliveries(alertId: string): Delivery[] {
    return this.stmt.deliveries.all(alertId).map(toDelivery);
  }
}
