// The alerts schema as an append-only list of migrations, with a variant per backend. The SQLite list is
// the one older files recorded in PRAGMA user_version (adopted through LEGACY_ALERTS_FILE); a released
// migration is never edited: a change is a new migration.
import type { LegacyFile, Migration, SchemaOwner } from '../../database/migrations.ts';
import { appendOnly, jsonCheck } from '../../database/ddl.ts';

const SQLITE_V1 = `
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        resident_id TEXT NOT NULL,
        community_id TEXT,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'alarm', 'critical')),
        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
        opened_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at INTEGER,
        resolved_by TEXT,
        resolved_at INTEGER,
        outcome TEXT CHECK (outcome IN ('emergency', 'false_alarm', 'device_fault', 'other')),
        note TEXT,
        summary TEXT NOT NULL,
        evidence TEXT NOT NULL CHECK (json_valid(evidence)),
        device_id TEXT,
        escalation_step INTEGER,
        auto_clear INTEGER NOT NULL CHECK (auto_clear IN (0, 1)),
        repeat_count INTEGER NOT NULL DEFAULT 0
      );
      -- One incident, one alert: at most one unresolved alert per resident and rule.
      CREATE UNIQUE INDEX alerts_one_active ON alerts (resident_id, rule_id) WHERE state != 'resolved';
      CREATE INDEX alerts_by_updated ON alerts (updated_at);
      CREATE INDEX alerts_by_community ON alerts (community_id, updated_at);
      CREATE INDEX alerts_by_resident ON alerts (resident_id, updated_at);

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        details TEXT NOT NULL CHECK (json_valid(details))
      );
      CREATE INDEX audit_by_alert ON audit (alert_id, id);
      -- The trail is append-only: the database itself refuses edits and deletions.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only');
      END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
        SELECT RAISE(ABORT, 'the audit trail is append-only');
      END;

      -- The next escalation action of each unacknowledged alert. due_at NULL: the step waits for the
      -- alert's severity to reach the step's minimum.
      CREATE TABLE escalations (
        alert_id TEXT PRIMARY KEY REFERENCES alerts (id),
        started_at INTEGER NOT NULL,
        step INTEGER NOT NULL,
        round INTEGER NOT NULL,
        due_at INTEGER
      );
      CREATE INDEX escalations_by_due ON escalations (due_at) WHERE due_at IS NOT NULL;

      -- Notifications decided but not yet handed to a channel. Deciding a step and writing its outbox
      -- happen in one transaction, so a restart sends what was decided and never decides a step twice.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        step INTEGER NOT NULL,
        round INTEGER NOT NULL,
        at INTEGER NOT NULL,
        recipient TEXT NOT NULL CHECK (json_valid(recipient)),
        done_at INTEGER
      );
      CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL;

      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        step INTEGER NOT NULL,
        round INTEGER NOT NULL,
        channel TEXT NOT NULL,
        recipient TEXT NOT NULL,
        address TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        at INTEGER NOT NULL,
        ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
        error TEXT
      );
      CREATE INDEX deliveries_by_alert ON deliveries (alert_id, id);
    `;

const POSTGRES_V1 = `
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL,
    community_id TEXT,
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'alarm', 'critical')),
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    resolved_by TEXT,
    resolved_at BIGINT,
    outcome TEXT CHECK (outcome IN ('emergency', 'false_alarm', 'device_fault', 'other')),
    note TEXT,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL ${jsonCheck('postgres', 'evidence')},
    device_id TEXT,
    escalation_step INTEGER,
    auto_clear INTEGER NOT NULL CHECK (auto_clear IN (0, 1)),
    repeat_count INTEGER NOT NULL DEFAULT 0
  );
  -- One incident, one alert: at most one unresolved alert per resident and rule, across processes.
  CREATE UNIQUE INDEX alerts_one_active ON alerts (resident_id, rule_id) WHERE state <> 'resolved';
  CREATE INDEX alerts_by_updated ON alerts (updated_at);
  CREATE INDEX alerts_by_community ON alerts (community_id, updated_at);
  CREATE INDEX alerts_by_resident ON alerts (resident_id, updated_at);

  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    details TEXT NOT NULL ${jsonCheck('postgres', 'details')}
  );
  CREATE INDEX audit_by_alert ON audit (alert_id, id);
  -- The trail is append-only: the database itself refuses edits and deletions (TRUNCATE included).
  ${appendOnly('postgres', 'audit', 'the audit trail is append-only')}

  CREATE TABLE escalations (
    alert_id TEXT PRIMARY KEY REFERENCES alerts (id),
    started_at BIGINT NOT NULL,
    step INTEGER NOT NULL,
    round INTEGER NOT NULL,
    due_at BIGINT
  );
  CREATE INDEX escalations_by_due ON escalations (due_at) WHERE due_at IS NOT NULL;

  CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    step INTEGER NOT NULL,
    round INTEGER NOT NULL,
    at BIGINT NOT NULL,
    recipient TEXT NOT NULL ${jsonCheck('postgres', 'recipient')},
    done_at BIGINT
  );
  CREATE INDEX outbox_pending ON outbox (id) WHERE done_at IS NULL;

  CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    step INTEGER NOT NULL,
    round INTEGER NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    address TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at BIGINT NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error TEXT
  );
  CREATE INDEX deliveries_by_alert ON deliveries (alert_id, id);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alerts, audit trail, escalation timers, outbox, deliveries',
    sqlite: SQLITE_V1,
    postgres: POSTGRES_V1,
  },
  {
    version: 2,
    name: 'deliveries keep what an SMS or voice provider answered',
    sqlite: `ALTER TABLE deliveries ADD COLUMN receipt TEXT CHECK (receipt IS NULL OR json_valid(receipt));`,
    postgres: `ALTER TABLE deliveries ADD COLUMN receipt TEXT CHECK (receipt IS NULL OR (receipt)::jsonb IS NOT NULL);`,
  },
  {
    version: 3,
    name: 'an outbox item is claimed by one sender until a deadline, so several escalators send it once',
    sql: `ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;`,
  },
  {
    version: 4,
    name: "an index for community reports, covering what they read of a period's alerts",
    // Measured on a year of 120,000 alerts (bench/reports.ts, SQLite): a year's figures 1.9-2.3 s -> 1.0 s,
    // a month's 150-290 ms -> 90-190 ms. Alerts are written rarely; the wider index costs them little.
    sql: `CREATE INDEX alerts_for_reports ON alerts (community_id, opened_at, severity, rule_id, outcome,
      escalation_step, acknowledged_at, resolved_at, resolved_by, device_id, resident_id, id);`,
  },
  {
    version: 5,
    name: 'one-tap links: each message of an alert carries a link only its recipient can act on',
    // Only the SHA-256 of a link's token is kept: whoever reads the database cannot act through a link.
    sql: `CREATE TABLE action_links (
        token_hash TEXT PRIMARY KEY,
        alert_id TEXT NOT NULL REFERENCES alerts (id),
        recipient TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('family', 'staff')),
        language TEXT NOT NULL CHECK (language IN ('zh-CN', 'en')),
        channel TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
      );
      CREATE INDEX action_links_by_alert ON action_links (alert_id);`,
  },
  {
    version: 6,
    name: "Tencent's pushed call outcomes, seen by every process sharing the database",
    // Tencent pushes a call's outcome to whichever Anju process its load balancer picks; the process that
    // placed the call reads it here by call id. Kept a day: a call is followed for minutes.
    sql: `CREATE TABLE tencent_call_reports (
        call_id TEXT PRIMARY KEY,
        result TEXT NOT NULL,
        received_at BIGINT NOT NULL
      );
      CREATE INDEX tencent_call_reports_by_time ON tencent_call_reports (received_at);`,
  },
];

export const ALERTS_SCHEMA: SchemaOwner = { owner: 'alerts', migrations: MIGRATIONS };
// alerts.db files made before per-owner migrations kept this list's version in PRAGMA user_version.
export const LEGACY_ALERTS_FILE: LegacyFile = { owners: { alerts: 'user_version' } };
