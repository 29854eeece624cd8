// A simulated community and its alert history, written as plain rows (registry, alerts, audit trail,
// deliveries) for the report tests and the report benchmark. Deterministic for a given seed.
import { ALERTS_SCHEMA } from '../../alerting/alerts/migrations.ts';
import { migrate } from '../../database/migrations.ts';
import type { Database, Param, Sql } from '../../database/sql.ts';
import { REGISTRY_SCHEMA } from '../../registry/migrations.ts';

const MINUTE = 60_000;

/** Rules as they occur in the simulation: severity, weight, and how often they turn out false. */
const RULES = [
  { id: 'event.sos', severity: 'critical', weight: 2, falseShare: 0.5 },
  { id: 'event.fall', severity: 'critical', weight: 2, falseShare: 0.3 },
  { id: 'gas.methane', severity: 'critical', weight: 1, falseShare: 0.2 },
  { id: 'vitals.pulse', severity: 'alarm', weight: 3, falseShare: 0.6 },
  { id: 'absence.routine', severity: 'alarm', weight: 4, falseShare: 0.7 },
  { id: 'climate.cold', severity: 'warning', weight: 2, falseShare: 0.1 },
  { id: 'device.offline', severity: 'warning', weight: 4, falseShare: 0.1 },
  { id: 'device.battery', severity: 'info', weight: 3, falseShare: 0 },
  { id: 'device.not_worn', severity: 'info', weight: 2, falseShare: 0 },
] as const;
const OUTCOMES_BUT_FALSE = ['emergency', 'device_fault', 'other'] as const;

/** Mulberry32: small, fast and good enough to make test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The alert tables for a test or benchmark database. SQLite takes the alert owner's own migrations;
 * until they have a PostgreSQL variant (issue 11, alerting/alerts/migrations.ts), PostgreSQL gets the
 * same columns written portably.
 */
export async function createAlertTables(db: Database): Promise<void> {
  await migrate(db, [ALERTS_SCHEMA]);
}

export async function createRegistryTables(db: Database): Promise<void> {
  await migrate(db, [REGISTRY_SCHEMA]);
}

/** Inserts rows in batches of multi-row INSERTs (both backends take up to 32,766 parameters). */
async function insertMany(db: Sql, table: string, columns: string[], rows: Param[][]): Promise<void> {
  const per = Math.max(1, Math.floor(30_000 / columns.length));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await db.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      chunk.flat(),
    );
  }
}

export interface SimulatedCommunity {
  communityId: string;
  residentIds: string[];
  deviceIds: string[];
}

/** One community with `residents` residents, each in their own home with a wearable, an env and a gas sensor. */
export async function seedCommunity(
  db: Sql,
  options: { id: string; name: string; timeZone: string | null; residents: number; seed: number },
): Promise<SimulatedCommunity> {
  const rand = prng(options.seed);
  const { id } = options;
  await db.run('INSERT INTO communities (id, name, region, created_at, time_zone) VALUES (?, ?, ?, ?, ?)', [
    id,
    options.name,
    'sim',
    0,
    options.timeZone,
  ]);
  await db.run('INSERT INTO compounds (id, community_id, name, created_at) VALUES (?, ?, ?, ?)', [
    `${id}-cp`,
    id,
    'A',
    0,
  ]);
  await db.run('INSERT INTO buildings (id, compound_id, name, created_at) VALUES (?, ?, ?, ?)', [
    `${id}-b`,
    `${id}-cp`,
    '1',
    0,
  ]);
  const homes: Param[][] = [];
  const residents: Param[][] = [];
  const devices: Param[][] = [];
  const residentIds: string[] = [];
  const deviceIds: string[] = [];
  for (let i = 0; i < options.residents; i++) {
    const home = `${id}-h${i}`;
    const resident = `${id}-r${i}`;
    homes.push([home, `${id}-b`, `${i}`, 0]);
    residents.push([resident, home, `R${i}`, 1, 'zh-CN', 0]);
    residentIds.push(resident);
    for (const kind of ['wearable', 'env_monitor', 'gas_sensor']) {
      const device = `${id}-${kind}${i}`;
      deviceIds.push(device);
      const revoked = rand() < 0.02 ? 1 : null;
      devices.push([device, kind, home, resident, 'x', revoked, rand() < 0.9 ? 1 : 0, 0]);
    }
  }
  await insertMany(db, 'homes', ['id', 'building_id', 'label', 'created_at'], homes);
  await insertMany(
    db,
    'residents',
    ['id', 'home_id', 'name', 'lives_alone', 'language', 'created_at'],
    residents,
  );
  await insertMany(
    db,
    'devices',
    ['id', 'kind', 'home_id', 'resident_id', 'secret_hash', 'revoked_at', 'online', 'created_at'],
    devices,
  );
  return { communityId: id, residentIds, deviceIds };
}

export interface AlertHistoryOptions {
  community: SimulatedCommunity;
  from: number;
  to: number;
  count: number;
  seed: number;
  /** Alerts still open at the end (at most one per resident and rule). */
  openShare?: number;
}

/** `count` alerts opened in [from, to) with their audit trail and deliveries, as the service would write them. */
export async function seedAlerts(db: Sql, options: AlertHistoryOptions): Promise<void> {
  const rand = prng(options.seed);
  const { community } = options;
  const totalWeight = RULES.reduce((n, r) => n + r.weight, 0);
  const pickRule = () => {
    let x = rand() * totalWeight;
    for (const r of RULES) if ((x -= r.weight) < 0) return r;
    return RULES[0];
  };
  const stillOpen = new Set<string>();
  const alerts: Param[][] = [];
  const audit: Param[][] = [];
  const deliveries: Param[][] = [];
  for (let n = 0; n < options.count; n++) {
    const rule = pickRule();
    const r = Math.floor(rand() * community.residentIds.length);
    const residentId = community.residentIds[r]!;
    const deviceId = rule.id.startsWith('device.') ? community.deviceIds[r * 3]! : null;
    const id = `${community.communityId}-a${options.seed}-${n}`;
    const openedAt = options.from + Math.floor(rand() * (options.to - options.from));
    const urgent = rule.severity === 'alarm' || rule.severity === 'critical';
    const fate = rand();
    const key = `${residentId}|${rule.id}`;
    const open = fate < (options.openShare ?? 0.03) && !stillOpen.has(key);
    if (open) stillOpen.add(key);
    // Taken on after 20 s to 20 min (most within 5), or closed by the system when the condition cleared.
    const selfCleared = !open && fate > 0.9;
    const ackDelay = Math.floor((rand() < 0.8 ? 20 + rand() * 280 : 300 + rand() * 900) * 1000);
    const acknowledgedAt = open || selfCleared || rand() < 0.1 ? null : openedAt + ackDelay;
    // Some are resolved directly without an acknowledgement: that is taking them on too.
    const resolvedAt = open
      ? null
      : (acknowledgedAt ?? openedAt + ackDelay) + Math.floor(rand() * 90 * MINUTE);
    const resolvedBy = resolvedAt === null ? null : selfCleared ? 'system' : 'u-staff';
    const outcome =
      resolvedAt === null || selfCleared
        ? null
        : rand() < rule.falseShare
          ? 'false_alarm'
          : OUTCOMES_BUT_FALSE[Math.floor(rand() * 3)]!;
    const takenOn = acknowledgedAt ?? (resolvedBy === 'u-staff' ? resolvedAt : null);
    const notYet = (after: number) => takenOn === null || takenOn - openedAt > after;
    const step = urgent && notYet(5 * MINUTE) ? 2 : urgent && notYet(2 * MINUTE) ? 1 : 0;
    const state = resolvedAt !== null ? 'resolved' : acknowledgedAt !== null ? 'acknowledged' : 'open';
    const updatedAt = Math.max(openedAt, acknowledgedAt ?? 0, resolvedAt ?? 0);
    alerts.push([
      id,
      residentId,
      community.communityId,
      rule.id,
      rule.severity,
      state,
      openedAt,
      updatedAt,
      acknowledgedAt === null ? null : 'u-staff',
      acknowledgedAt,
      resolvedBy,
      resolvedAt,
      outcome,
      'simulated',
      '{}',
      deviceId,
      step,
      rule.id.startsWith('device.') ? 1 : 0,
    ]);
    audit.push([id, openedAt, 'system', 'opened', '{}']);
    for (let s = 0; s <= step; s++) {
      const at = openedAt + [0, 2, 5][s]! * MINUTE;
      audit.push([id, at, 'system', 'escalated', JSON.stringify({ step: s })]);
      if (s === 0) continue;
      const ok = rand() < 0.9;
      deliveries.push([id, s, 0, 'sms', `contact:c${r}`, '+8613800000000', 1, at, ok ? 1 : 0, null]);
      if (!ok) deliveries.push([id, s, 0, 'voice', `contact:c${r}`, '+8613800000000', 1, at, 1, null]);
    }
    if (acknowledgedAt !== null) audit.push([id, acknowledgedAt, 'u-staff', 'acknowledged', '{}']);
    if (resolvedAt !== null) {
      const details = selfCleared ? {} : { outcome };
      audit.push([id, resolvedAt, resolvedBy, 'resolved', JSON.stringify(details)]);
    }
  }
  await db.transaction(async (tx) => {
    await insertMany(
      tx,
      'alerts',
      [
        'id',
        'resident_id',
        'community_id',
        'rule_id',
        'severity',
        'state',
        'opened_at',
        'updated_at',
        'acknowledged_by',
        'acknowledged_at',
        'resolved_by',
        'resolved_at',
        'outcome',
        'summary',
        'evidence',
        'device_id',
        'escalation_step',
        'auto_clear',
      ],
      alerts,
    );
    await insertMany(tx, 'audit', ['alert_id', 'at', 'actor', 'action', 'details'], audit);
    await insertMany(
      tx,
      'deliveries',
      ['alert_id', 'step', 'round', 'channel', 'recipient', 'address', 'attempt', 'at', 'ok', 'error'],
      deliveries,
    );
  });
}
