// A simulated November of one community: the report's figures must equal those computed here, straight
// from the raw alert, audit, delivery and device rows, with none of the report's code.
import { beforeEach, expect, it } from 'vitest';
import type { Database } from '../../database/sql.ts';
import { parseEscalationPolicies, takeOnTargetsMs } from '../../alerting/alerts/policy.ts';
import { eachBackend } from '../../test/backends.ts';
import { buildCommunityReport, ReportError } from './assemble.ts';
import { createAlertTables, createRegistryTables, seedAlerts, seedCommunity } from './simulate.ts';

const ZONE = 'Asia/Shanghai';
const NOV = Date.parse('2026-11-01T00:00:00+08:00');
const DEC = Date.parse('2026-12-01T00:00:00+08:00');
const HOUR = 3_600_000;
const MIN = 60_000;
const FIVE_MIN = { alarm: 5 * MIN, critical: 5 * MIN };

interface AlertRow {
  id: string;
  community_id: string;
  rule_id: string;
  severity: string;
  opened_at: number;
}
interface AuditRow {
  alert_id: string;
  at: number;
  actor: string;
  action: string;
  details: string;
}

/** Nearest rank, to the whole second below (the report counts durations per second). */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.floor(sorted[Math.ceil(sorted.length * p) - 1]! / 1000) * 1000;
}

/** Every figure the test checks, from the raw rows. */
async function expectedFigures(db: Database, targetMs = FIVE_MIN) {
  const alerts = (await db.all<AlertRow>('SELECT * FROM alerts')).filter(
    (a) => a.community_id === 'c1' && Number(a.opened_at) >= NOV && Number(a.opened_at) < DEC,
  );
  const ids = new Set(alerts.map((a) => a.id));
  const trail = new Map<string, AuditRow[]>();
  for (const row of await db.all<AuditRow>('SELECT * FROM audit ORDER BY id')) {
    if (!ids.has(row.alert_id)) continue;
    trail.set(row.alert_id, [...(trail.get(row.alert_id) ?? []), row]);
  }
  const facts = alerts.map((a) => {
    const rows = trail.get(a.id)!;
    const opened = Number(rows.find((r) => r.action === 'opened')!.at);
    const takeOn = rows.find(
      (r) => r.action === 'acknowledged' || (r.action === 'resolved' && r.actor !== 'system'),
    );
    const resolved = rows.find((r) => r.action === 'resolved');
    const steps = rows
      .filter((r) => r.action === 'escalated')
      .map((r) => (JSON.parse(r.details) as { step: number }).step);
    return {
      ...a,
      takeOnMs: takeOn ? Number(takeOn.at) - opened : null,
      resolveMs: resolved ? Number(resolved.at) - opened : null,
      outcome: resolved ? ((JSON.parse(resolved.details) as { outcome?: string }).outcome ?? null) : null,
      maxStep: Math.max(-1, ...steps),
      day: new Date(opened).toLocaleDateString('sv-SE', { timeZone: ZONE }),
    };
  });
  const urgent = facts.filter((f) => f.severity === 'alarm' || f.severity === 'critical');
  const urgentTakeOn = urgent.flatMap((f) => (f.takeOnMs === null ? [] : [f.takeOnMs]));
  const closed = facts.filter((f) => f.outcome !== null);
  const rules = new Map<string, { alerts: number; falseAlarm: number; closed: number }>();
  for (const f of facts) {
    const r = rules.get(f.rule_id) ?? { alerts: 0, falseAlarm: 0, closed: 0 };
    r.alerts++;
    if (f.outcome !== null) r.closed++;
    if (f.outcome === 'false_alarm') r.falseAlarm++;
    rules.set(f.rule_id, r);
  }
  const deliveries = await db.all<{ alert_id: string; channel: string; ok: number }>(
    'SELECT alert_id, channel, ok FROM deliveries',
  );
  const devices = await db.all<{ id: string; home_id: string; revoked_at: number | null; online: number }>(
    'SELECT id, home_id, revoked_at, online FROM devices',
  );
  const active = devices.filter((d) => d.home_id.startsWith('c1-') && d.revoked_at === null);
  return {
    count: facts.length,
    perDay: facts.reduce<Record<string, number>>((m, f) => ({ ...m, [f.day]: (m[f.day] ?? 0) + 1 }), {}),
    urgentOf: urgent.length,
    urgentP50: nearestRank(urgentTakeOn, 0.5),
    urgentP90: nearestRank(urgentTakeOn, 0.9),
    urgentWithin: urgent.filter((f) => f.takeOnMs !== null && f.takeOnMs <= targetMs[f.severity as 'alarm'])
      .length,
    within: (severity: 'alarm' | 'critical') =>
      urgent.filter((f) => f.severity === severity && f.takeOnMs !== null && f.takeOnMs <= targetMs[severity])
        .length,
    of: (severity: 'alarm' | 'critical') => urgent.filter((f) => f.severity === severity).length,
    resolveP90: nearestRank(
      facts.flatMap((f) => (f.resolveMs === null ? [] : [f.resolveMs])),
      0.9,
    ),
    falseAlarmShare: closed.filter((f) => f.outcome === 'false_alarm').length / closed.length,
    rules,
    reach: [0, 1, 2].map((s) => facts.filter((f) => f.maxStep >= s).length),
    failedSms: deliveries.filter((d) => ids.has(d.alert_id) && d.channel === 'sms' && Number(d.ok) === 0)
      .length,
    active: active.length,
    online: active.filter((d) => Number(d.online) === 1).length,
    offline: facts.filter((f) => f.rule_id === 'device.offline').length,
  };
}

eachBackend('community report figures', (backend) => {
  let db: Database;
  beforeEach(async () => {
    db = await backend.fresh();
    await createRegistryTables(db);
    await createAlertTables(db);
    const c1 = await seedCommunity(db, {
      id: 'c1',
      name: '安居社区',
      timeZone: ZONE,
      residents: 40,
      seed: 1,
    });
    const c2 = await seedCommunity(db, { id: 'c2', name: 'Other', timeZone: null, residents: 10, seed: 2 });
    await seedAlerts(db, { community: c1, from: NOV, to: DEC, count: 600, seed: 11 });
    // Just outside November, local time: these must not count.
    await seedAlerts(db, { community: c1, from: NOV - 3 * HOUR, to: NOV, count: 25, seed: 12, openShare: 0 });
    await seedAlerts(db, { community: c1, from: DEC, to: DEC + 3 * HOUR, count: 25, seed: 13, openShare: 0 });
    await seedAlerts(db, { community: c2, from: NOV, to: DEC, count: 100, seed: 14 });
  });

  it('equal the figures computed from the raw alert, audit, delivery and device rows', async () => {
    const report = await buildCommunityReport({ registry: db, alerts: db }, 'c1', { month: '2026-11' });
    const want = await expectedFigures(db);

    expect(report.period).toMatchObject({ from: NOV, to: DEC });
    expect(report.period.days).toHaveLength(30);
    expect(report.community).toMatchObject({ name: '安居社区', timeZone: ZONE, residents: 40 });
    expect(report.totals.alerts).toBe(want.count);
    const perDay = Object.fromEntries(
      report.perDay.map((d) => [d.day, Object.values(d.bySeverity).reduce((a, b) => a + b, 0)]),
    );
    expect(Object.fromEntries(Object.entries(perDay).filter(([, n]) => n > 0))).toEqual(want.perDay);

    const takeOn = report.response.urgent.takeOn;
    expect(takeOn.of).toBe(want.urgentOf);
    expect(takeOn.p50Ms).toBe(want.urgentP50);
    expect(takeOn.p90Ms).toBe(want.urgentP90);
    expect(takeOn.withinTarget).toBe(want.urgentWithin);
    expect(takeOn.withinTargetShare).toBeCloseTo(want.urgentWithin / want.urgentOf, 12);
    expect(report.response.all.resolve.p90Ms).toBe(want.resolveP90);

    expect(report.falseAlarmShare).toBeCloseTo(want.falseAlarmShare, 12);
    expect(report.rules.map((r) => r.ruleId).sort()).toEqual([...want.rules.keys()].sort());
    for (const r of report.rules) {
      const w = want.rules.get(r.ruleId)!;
      expect(r.alerts).toBe(w.alerts);
      expect(r.falseAlarm).toBe(w.falseAlarm);
      expect(r.falseAlarmShare).toBe(w.closed === 0 ? null : w.falseAlarm / w.closed);
    }
    // Worst rules first.
    const shares = report.rules.map((r) => r.falseAlarmShare ?? -1);
    expect(shares).toEqual([...shares].sort((a, b) => b - a));

    expect(report.escalation.map((e) => e.alerts)).toEqual(want.reach);
    expect(report.escalation[1]!.notify).toEqual(['family']);
    expect(report.deliveries.find((d) => d.channel === 'sms')?.failed).toBe(want.failedSms);
    expect(report.fleet).toMatchObject({ active: want.active, online: want.online });
    expect(report.fleet.offlineIncidents).toBe(want.offline);
    // The simulation is busy enough that every figure above was tested on something.
    expect(want.count).toBeGreaterThan(500);
    expect(want.reach[2]).toBeGreaterThan(0);
    expect(want.urgentWithin).toBeLessThan(want.urgentOf);
  });

  it("measures against the community's own take-on targets and escalation steps", async () => {
    const policies = parseEscalationPolicies(`
      communities:
        c1:
          steps: [{ afterMin: 0, notify: [console] }, { afterMin: 1, notify: [grid_worker] }]
          takeOnTargetMin: { alarm: 3, critical: 2 }
    `);
    const report = await buildCommunityReport({ registry: db, alerts: db, policies }, 'c1', {
      month: '2026-11',
    });
    const want = await expectedFigures(db, { alarm: 3 * MIN, critical: 2 * MIN });
    const atFive = await expectedFigures(db);
    expect(report.targetMs).toEqual({ alarm: 3 * MIN, critical: 2 * MIN });
    const takeOn = report.response.urgent.takeOn;
    expect(takeOn.withinTarget).toBe(want.urgentWithin);
    expect(takeOn.withinTargetShare).toBeCloseTo(want.urgentWithin / want.urgentOf, 12);
    for (const severity of ['alarm', 'critical'] as const) {
      expect(takeOn.bySeverity[severity].of).toBe(want.of(severity));
      expect(takeOn.bySeverity[severity].withinTarget).toBe(want.within(severity));
    }
    // A shorter target is met less often, on the same alerts.
    expect(want.urgentWithin).toBeLessThan(atFive.urgentWithin);
    expect(report.escalation.map((e) => e.notify)).toEqual([['console'], ['grid_worker']]);
    // Another community keeps the default policy: 5 minutes, three steps.
    const other = await buildCommunityReport({ registry: db, alerts: db, policies }, 'c2', {
      month: '2026-11',
    });
    expect(other.targetMs).toEqual(FIVE_MIN);
    expect(other.escalation).toHaveLength(3);
  });

  it('refuses an unknown community and a malformed month', async () => {
    const sources = { registry: db, alerts: db };
    await expect(buildCommunityReport(sources, 'nowhere', { month: '2026-11' })).rejects.toThrow(ReportError);
    await expect(buildCommunityReport(sources, 'c1', { month: '2026-13' })).rejects.toThrow(/YYYY-MM/);
    await expect(buildCommunityReport(sources, 'c1', { from: DEC, to: NOV })).rejects.toThrow(/end after/);
  });

  it('takes the month in the community zone, and the default zone when it names none', async () => {
    const report = await buildCommunityReport({ registry: db, alerts: db }, 'c2', { month: '2026-11' });
    expect(report.community.timeZone).toBe(ZONE);
    expect(report.totals.alerts).toBe(100);
  });
});

it("takes a severity's target from the community's policy, else the default policy's, else 5 minutes", () => {
  const policies = parseEscalationPolicies(`
    default:
      steps: [{ afterMin: 0, notify: [console] }]
      takeOnTargetMin: { alarm: 4 }
    communities:
      c1: { steps: [{ afterMin: 0, notify: [console] }], takeOnTargetMin: { critical: 1.5 } }
  `);
  expect(takeOnTargetsMs(policies, 'c1')).toEqual({ alarm: 4 * MIN, critical: 1.5 * MIN });
  expect(takeOnTargetsMs(policies, 'c2')).toEqual({ alarm: 4 * MIN, critical: 5 * MIN });
  expect(() =>
    parseEscalationPolicies('default: { steps: [{ afterMin: 0 }], takeOnTargetMin: { alarm: 0 } }'),
  ).toThrow(/takeOnTargetMin/);
});
