// The report API on the dashboard app: staff get their own communities' reports and a 403 for any
// other (existing or not), admins every community and a 404 for none, family nothing at all; the CSV
// parses with its columns; bad periods are refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import {
  ADMIN_PASSWORD,
  json,
  northAndSouth,
  raiseAlert,
  type Browser,
  type Community,
} from './test-support.ts';
import type { CommunityReport } from './reports/schemas.ts';

let anju: TestApp;
let north: Community;
let south: Community;
let admin: Browser;
let staffNorth: Browser;
let family: Browser;
const from = Date.now() - 3_600_000;
const to = Date.now() + 3_600_000;
const period = `from=${from}&to=${to}`;

beforeAll(async () => {
  // The operator's escalation policy sets shorter take-on targets: the reports must use them.
  const notificationsFile = path.join(mkdtempSync(path.join(tmpdir(), 'anju-reports-api-')), 'n.yaml');
  writeFileSync(
    notificationsFile,
    `escalation:
  default:
    steps: [{ afterMin: 0, notify: [console] }, { afterMin: 2, notify: [family], minSeverity: alarm }]
    takeOnTargetMin: { alarm: 3, critical: 2 }
`,
  );
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD, notificationsFile });
  ({ north, south, admin, staffNorth, family } = await northAndSouth(anju, { north: 3, south: 1 }));
  const sos = await raiseAlert(anju, north.residents[0]!.id);
  await anju.alerting.alerts.acknowledge(sos.id, 'u-test');
  await anju.alerting.alerts.resolve(sos.id, 'u-test', 'false_alarm');
  await raiseAlert(anju, north.residents[1]!.id, { ruleId: 'event.fall' });
  await raiseAlert(anju, south.residents[0]!.id);
});
afterAll(async () => {
  await anju.stop();
});

describe('GET /api/v1/communities/:id/report', () => {
  it("gives staff their community's figures", async () => {
    const res = await staffNorth.get(`/api/v1/communities/${north.id}/report?${period}`);
    expect(res.status).toBe(200);
    const report = await json<CommunityReport>(res);
    expect(report.community).toMatchObject({ id: north.id, name: 'North', residents: 3 });
    expect(report.totals.alerts).toBe(2);
    expect(report.totals.bySeverity.critical).toBe(2);
    expect(report.rules.find((r) => r.ruleId === 'event.sos')).toMatchObject({ falseAlarm: 1, alerts: 1 });
    expect(report.response.urgent.takeOn).toMatchObject({ of: 2, count: 1, notTakenOn: 1 });
    expect(report.targetMs).toEqual({ alarm: 180_000, critical: 120_000 });
    expect(report.escalation.map((e) => e.notify)).toEqual([['console'], ['family']]);
  });

  it('refuses staff another community, and one that does not exist, alike', async () => {
    expect((await staffNorth.get(`/api/v1/communities/${south.id}/report?${period}`)).status).toBe(403);
    expect((await staffNorth.get(`/api/v1/communities/cm_nowhere/report?${period}`)).status).toBe(403);
    expect((await staffNorth.get(`/api/v1/communities/${south.id}/report.csv?${period}`)).status).toBe(403);
  });

  it('gives admins every community, and 404 for none', async () => {
    const res = await admin.get(`/api/v1/communities/${south.id}/report?${period}`);
    expect((await json<CommunityReport>(res)).totals.alerts).toBe(1);
    expect((await admin.get(`/api/v1/communities/cm_nowhere/report?${period}`)).status).toBe(404);
  });

  it('shows family none of it', async () => {
    expect((await family.get(`/api/v1/communities/${north.id}/report?${period}`)).status).toBe(403);
    expect((await family.get('/api/v1/reports/communities')).status).toBe(403);
  });

  it('refuses a malformed period with a reason', async () => {
    const bad = await admin.get(`/api/v1/communities/${north.id}/report?month=2026-13`);
    expect(bad.status).toBe(400);
    expect((await admin.get(`/api/v1/communities/${north.id}/report`)).status).toBe(400);
    const reversed = await admin.get(`/api/v1/communities/${north.id}/report?from=${to}&to=${from}`);
    expect(reversed.status).toBe(400);
    expect((await json(reversed)).detail).toMatch(/end after/);
  });
});

describe('the report as CSV', () => {
  it('parses with its columns, one figure a row', async () => {
    const res = await staffNorth.get(`/api/v1/communities/${north.id}/report.csv?${period}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="anju-report-/);
    const text = (await res.text()).replace(/^\uFEFF/, '');
    const rows = text
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    expect(rows[0]).toEqual(['section', 'item', 'measure', 'value']);
    expect(rows.every((r) => r.length === 4)).toBe(true);
    const value = (section: string, item: string, measure: string) =>
      rows.find((r) => r[0] === section && r[1] === item && r[2] === measure)?.[3];
    expect(value('totals', 'all', 'alerts')).toBe('2');
    expect(value('outcomes', 'event.sos', 'false_alarm')).toBe('1');
    expect(value('community', north.id, 'name')).toBe('North');
  });
});

describe('the communities a caller may report on', () => {
  it('are theirs for staff, all for admins', async () => {
    const mine = await json<{ communities: { id: string }[] }>(
      await staffNorth.get('/api/v1/reports/communities'),
    );
    expect(mine.communities.map((c) => c.id)).toEqual([north.id]);
    const all = await json<{ communities: { id: string }[] }>(await admin.get('/api/v1/reports/communities'));
    expect(all.communities.map((c) => c.id).sort()).toEqual([north.id, south.id].sort());
  });

  it('are in the OpenAPI document', async () => {
    const doc = await json<{ paths: Record<string, unknown> }>(await admin.get('/api/openapi.json'));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/communities/{id}/report',
        '/api/v1/communities/{id}/report.csv',
        '/api/v1/communities/{id}/report.pdf',
        '/api/v1/reports/communities',
      ]),
    );
  });
});

describe('GET /api/v1/residents/:id/trends', () => {
  it('gives staff the daily series of a resident of theirs', async () => {
    const res = await staffNorth.get(`/api/v1/residents/${north.residents[0]!.id}/trends?days=90`);
    expect(res.status).toBe(200);
    const body = await json<{
      sleepWindow: string;
      trends: { series: string; days: unknown[]; weeks: unknown[] }[];
    }>(res);
    expect(body.trends.map((t) => t.series)).toEqual([
      'motionEvents',
      'steps',
      'nightInBedH',
      'nightBathroomVisits',
      'nightDoorOpenings',
      'waterLitres',
      'restingHeartRate',
    ]);
    expect(body.trends[0]!.days).toHaveLength(90);
    expect(body.trends[0]!.weeks).toHaveLength(12);
    expect(body.sleepWindow).toBe('22:00-07:00'); // the rules' default
  });

  it("counts nights in the resident's own sleep window, as their rules set it", async () => {
    const id = north.residents[2]!.id;
    const put = await admin.put(`/api/v1/residents/${id}/rules`, {
      overrides: { absence: { routine: { sleep: { from: '23:30', to: '06:15' } } } },
    });
    expect(put.status).toBe(200);
    const body = await json<{ sleepWindow: string }>(await staffNorth.get(`/api/v1/residents/${id}/trends`));
    expect(body.sleepWindow).toBe('23:30-06:15');
  });

  it('refuses family, staff of another community, and a bad range', async () => {
    expect((await family.get(`/api/v1/residents/${north.residents[0]!.id}/trends`)).status).toBe(403);
    expect((await staffNorth.get(`/api/v1/residents/${south.residents[0]!.id}/trends`)).status).toBe(403);
    expect((await admin.get('/api/v1/residents/r_nobody/trends')).status).toBe(404);
    expect((await admin.get(`/api/v1/residents/${north.residents[0]!.id}/trends?days=7`)).status).toBe(400);
  });
});
