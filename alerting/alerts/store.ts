// The alerts database's SQL, the same on SQLite and PostgreSQL. AlertService and the escalator compose
// these into transactions; nothing here decides anything. Where two processes may race on PostgreSQL
// (READ COMMITTED), rows are locked (`lock`), claimed by a conditional UPDATE, or guarded by the partial
// unique index; SQLite's single writer serialises the same code.
import { containsPattern, containsSql, type Param, type Sql } from '../../database/sql.ts';
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
/** An audit entry to append: its id is the database's. */
export interface NewAuditEntry {
  at: number;
  actor: string;
  action: AuditAction;
  details: Record<string, unknown>;
}

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
  severity: Severity | undefined;
  matching: { residentIds: string[]; deviceId: string } | undefined;
  after: { updatedAt: number; id: string } | undefined;
  limit: number;
}

/** What a person's action changes of an alert; the rest (repeats, escalation) is left as stored. */
export type AlertTransition = Pick<
  Alert,
  | 'state'
  | 'acknowledgedBy'
  | 'acknowledgedAt'
  | 'resolvedBy'
  | 'resolvedAt'
  | 'outcome'
  | 'note'
  | 'updatedAt'
>;

const ALERT_COLUMNS = `id, resident_id, community_id, rule_id, severity, state, opened_at, updated_at,
  acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome, note, summary, evidence, device_id,
  escalation_step, auto_clear, repeat_count`;
const ESCALATION_COLUMNS = 'alert_id AS "alertId", started_at AS "startedAt", step, round, due_at AS "dueAt"';

function alertValues(a: Alert): Param[] {
  return [
    a.id,
    a.residentId,
    a.communityId,
    a.ruleId,
    a.severity,
    a.state,
    a.openedAt,
    a.updatedAt,
    a.acknowledgedBy,
    a.acknowledgedAt,
    a.resolvedBy,
    a.resolvedAt,
    a.outcome,
    a.note,
    a.summary,
    JSON.stringify(a.evidence),
    a.deviceId,
    a.escalationStep,
    a.autoClear ? 1 : 0,
    a.repeatCount,
  ];
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export class AlertStore {
  constructor(private readonly sql: Sql) {}

  /** Runs `fn` in one transaction with a store over it. */
  transaction<T>(fn: (tx: AlertStore) => Promise<T>): Promise<T> {
    return this.sql.transaction((tx) => fn(new AlertStore(tx)));
  }

  /** Row locks exist on PostgreSQL only; SQLite's transactions already hold the one write lock. */
  private get lock(): string {
    return this.sql.dialect === 'postgres' ? ' FOR UPDATE' : '';
  }

  async get(id: string, options: { lock?: boolean } = {}): Promise<Alert | undefined> {
    const row = await this.sql.one<AlertRow>(
      `SELECT * FROM alerts WHERE id = ?${options.lock ? this.lock : ''}`,
      [id],
    );
    return row && toAlert(row);
  }

  /** The unresolved alert of this resident and rule, if any; locked for the transaction when asked. */
  async active(
    residentId: string,
    ruleId: string,
    options: { lock?: boolean } = {},
  ): Promise<Alert | undefined> {
    const row = await this.sql.one<AlertRow>(
      `SELECT * FROM alerts WHERE resident_id = ? AND rule_id = ? AND state <> 'resolved'${options.lock ? this.lock : ''}`,
      [residentId, ruleId],
    );
    return row && toAlert(row);
  }

  /**
   * Inserts an open alert unless its (resident, rule) has an unresolved one already (the partial unique
   * index decides, also against another process): true when this one was inserted.
   */
  async insertIfNone(alert: Alert): Promise<boolean> {
    const row = await this.sql.one<{ id: string }>(
      `INSERT INTO alerts (${ALERT_COLUMNS}) VALUES (${marks(20)})
       ON CONFLICT (resident_id, rule_id) WHERE state <> 'resolved' DO NOTHING
       RETURNING id`,
      alertValues(alert),
    );
    return row !== undefined;
  }

  /**
   * Opens an alert with its first audit entry and escalation unless its (resident, rule) has an
   * unresolved one already: the entry, or undefined when another alert holds the slot. On PostgreSQL it is
   * one statement (atomic by itself, one round trip: an SOS waits for nothing else); on SQLite the same
   * three inserts in a transaction (joined when the caller is in one).
   */
  async open(
    alert: Alert,
    opened: NewAuditEntry,
    escalation: Omit<EscalationRow, 'alertId'>,
  ): Promise<AuditEntry | undefined> {
    const audit = [opened.at, opened.actor, opened.action, JSON.stringify(opened.details)];
    const steps = [escalation.startedAt, escalation.step, escalation.round, escalation.dueAt];
    if (this.sql.dialect === 'postgres') {
      const row = await this.sql.one<AuditRow>(
        `WITH opened AS (
           INSERT INTO alerts (${ALERT_COLUMNS}) VALUES (${marks(20)})
           ON CONFLICT (resident_id, rule_id) WHERE state <> 'resolved' DO NOTHING
           RETURNING id
         ), audited AS (
           INSERT INTO audit (alert_id, at, actor, action, details)
           SELECT id, ?::bigint, ?::text, ?::text, ?::text FROM opened RETURNING *
         ), escalated AS (
           INSERT INTO escalations (alert_id, started_at, step, round, due_at)
           SELECT id, ?::bigint, ?::integer, ?::integer, ?::bigint FROM opened
         )
         SELECT * FROM audited`,
        [...alertValues(alert), ...audit, ...steps],
      );
      return row && toAudit(row);
    }
    return this.transaction(async (tx) => {
      if (!(await tx.insertIfNone(alert))) return undefined;
      const entry = await tx.appendAudit(alert.id, opened.at, opened.actor, opened.action, opened.details);
      await tx.putEscalation({ alertId: alert.id, ...escalation });
      return entry;
    });
  }

  /** Writes every column of an alert the caller holds locked (repeats, clears, escalation). */
  async update(alert: Alert): Promise<void> {
    const [id, , , , ...rest] = alertValues(alert);
    await this.sql.run(
      `UPDATE alerts SET severity = ?, state = ?, opened_at = ?, updated_at = ?, acknowledged_by = ?,
         acknowledged_at = ?, resolved_by = ?, resolved_at = ?, outcome = ?, note = ?, summary = ?,
         evidence = ?, device_id = ?, escalation_step = ?, auto_clear = ?, repeat_count = ?
       WHERE id = ?`,
      [...rest, id!],
    );
  }

  /**
   * A person's action: writes only what it changes, and only while the alert is still in the state the
   * action was decided on (`from`; null: any state). Returns the alert as stored, or undefined when
   * another request changed its state first.
   */
  async transition(id: string, from: AlertState | null, t: AlertTransition): Promise<Alert | undefined> {
    const row = await this.sql.one<AlertRow>(
      `UPDATE alerts SET state = ?, acknowledged_by = ?, acknowledged_at = ?, resolved_by = ?,
         resolved_at = ?, outcome = ?, note = ?, updated_at = ?
       WHERE id = ?${from === null ? '' : ' AND state = ?'}
       RETURNING *`,
      [
        t.state,
        t.acknowledgedBy,
        t.acknowledgedAt,
        t.resolvedBy,
        t.resolvedAt,
        t.outcome,
        t.note,
        t.updatedAt,
        id,
        ...(from === null ? [] : [from]),
      ],
    );
    return row && toAlert(row);
  }

  async list(query: ListQuery): Promise<Alert[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (query.residentIds) {
      if (query.residentIds.length === 0) return [];
      where.push(`resident_id IN (${marks(query.residentIds.length)})`);
      params.push(...query.residentIds);
    }
    if (query.communityIds) {
      if (query.communityIds.length === 0) return [];
      where.push(`community_id IN (${marks(query.communityIds.length)})`);
      params.push(...query.communityIds);
    }
    if (query.state === 'active') where.push("state <> 'resolved'");
    else if (query.state) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.since !== undefined) {
      where.push('updated_at >= ?');
      params.push(query.since);
    }
    if (query.severity !== undefined) {
      where.push('severity = ?');
      params.push(query.severity);
    }
    if (query.matching) {
      const { residentIds, deviceId } = query.matching;
      const byResident = residentIds.length ? `resident_id IN (${marks(residentIds.length)}) OR ` : '';
      where.push(`(${byResident}${containsSql('device_id')})`);
      params.push(...residentIds, containsPattern(deviceId));
    }
    if (query.after) {
      // Keyset: the order below, continued after the last alert shown.
      where.push('(updated_at < ? OR (updated_at = ? AND id < ?))');
      params.push(query.after.updatedAt, query.after.updatedAt, query.after.id);
    }
    const rows = await this.sql.all<AlertRow>(
      `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY updated_at DESC, id DESC LIMIT ?`,
      [...params, query.limit],
    );
    return rows.map(toAlert);
  }

  async appendAudit(
    alertId: string,
    at: number,
    actor: string,
    action: AuditAction,
    details: Record<string, unknown>,
  ): Promise<AuditEntry> {
    const row = await this.sql.one<AuditRow>(
      'INSERT INTO audit (alert_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?) RETURNING *',
      [alertId, at, actor, action, JSON.stringify(details)],
    );
    return toAudit(row!);
  }

  async history(alertId: string): Promise<AuditEntry[]> {
    const rows = await this.sql.all<AuditRow>('SELECT * FROM audit WHERE alert_id = ? ORDER BY id', [
      alertId,
    ]);
    return rows.map(toAudit);
  }

  /** The alert's next escalation action; locked for the transaction when asked. */
  escalation(alertId: string, options: { lock?: boolean } = {}): Promise<EscalationRow | undefined> {
    return this.sql.one<EscalationRow>(
      `SELECT ${ESCALATION_COLUMNS} FROM escalations WHERE alert_id = ?${options.lock ? this.lock : ''}`,
      [alertId],
    );
  }

  async putEscalation(row: EscalationRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO escalations (alert_id, started_at, step, round, due_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (alert_id) DO UPDATE SET step = excluded.step, round = excluded.round,
         due_at = excluded.due_at`,
      [row.alertId, row.startedAt, row.step, row.round, row.dueAt],
    );
  }

  async deleteEscalation(alertId: string): Promise<void> {
    await this.sql.run('DELETE FROM escalations WHERE alert_id = ?', [alertId]);
  }

  /** The earliest escalation due at or before `upTo`, skipping the alerts in `except`. */
  nextDue(upTo: number, except: readonly string[] = []): Promise<EscalationRow | undefined> {
    return this.sql.one<EscalationRow>(
      `SELECT ${ESCALATION_COLUMNS} FROM escalations
       WHERE due_at IS NOT NULL AND due_at <= ?${except.length ? ` AND alert_id NOT IN (${marks(except.length)})` : ''}
       ORDER BY due_at, alert_id LIMIT 1`,
      [upTo, ...except],
    );
  }

  async earliestDue(): Promise<number | null> {
    const row = await this.sql.one<{ dueAt: number | null }>(
      'SELECT min(due_at) AS "dueAt" FROM escalations WHERE due_at IS NOT NULL',
    );
    return row?.dueAt ?? null;
  }

  async addToOutbox(
    alertId: string,
    step: number,
    round: number,
    at: number,
    recipient: Recipient,
  ): Promise<OutboxItem> {
    const row = await this.sql.one<OutboxRow>(
      `INSERT INTO outbox (alert_id, step, round, at, recipient) VALUES (?, ?, ?, ?, ?)
       RETURNING id, alert_id, step, round, at, recipient`,
      [alertId, step, round, at, JSON.stringify(recipient)],
    );
    return toOutbox(row!);
  }

  async pendingOutbox(): Promise<OutboxItem[]> {
    const rows = await this.sql.all<OutboxRow>(
      'SELECT id, alert_id, step, round, at, recipient FROM outbox WHERE done_at IS NULL ORDER BY id',
    );
    return rows.map(toOutbox);
  }

  /**
   * Claims a pending outbox item for sending until `until`: false when it is done, or another sender
   * holds an unexpired claim. One conditional UPDATE, so two processes never both win.
   */
  async claimOutbox(id: number, now: number, until: number): Promise<boolean> {
    const result = await this.sql.run(
      `UPDATE outbox SET claimed_until = ?
       WHERE id = ? AND done_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?)`,
      [until, id, now],
    );
    return result.changes === 1;
  }

  /** Marks an outbox item sent; false when it was already done (cancelled meanwhile, or sent). */
  async markOutboxDone(id: number, at: number): Promise<boolean> {
    const result = await this.sql.run('UPDATE outbox SET done_at = ? WHERE id = ? AND done_at IS NULL', [
      at,
      id,
    ]);
    return result.changes === 1;
  }

  async cancelOutbox(alertId: string, at: number): Promise<void> {
    await this.sql.run('UPDATE outbox SET done_at = ? WHERE alert_id = ? AND done_at IS NULL', [at, alertId]);
  }

  async addDelivery(d: NewDelivery): Promise<void> {
    await this.sql.run(
      `INSERT INTO deliveries (alert_id, step, round, channel, recipient, address, attempt, at, ok, error,
         receipt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        d.alertId,
        d.step,
        d.round,
        d.channel,
        d.recipient,
        d.address,
        d.attempt,
        d.at,
        d.ok ? 1 : 0,
        d.error,
        d.receipt ? JSON.stringify(d.receipt) : null,
      ],
    );
  }

  async deliveries(alertId: string): Promise<Delivery[]> {
    const rows = await this.sql.all<DeliveryRow>('SELECT * FROM deliveries WHERE alert_id = ? ORDER BY id', [
      alertId,
    ]);
    return rows.map(toDelivery);
  }
}
