// The alert console's HTTP API, on the dashboard app: listing and filtering, one alert's trail, and
// taking it on, annotating and closing it, each recorded with the person who did it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, Delivery } from '../alerting/alerts/index.ts';
import { startTestApp, type TestApp } from './test-app.ts';
import {
  ADMIN_PASSWORD,
  addCommunity,
  json,
  raiseAlert,
  signedIn,
  type Browser,
  type Community,
} from './test-support.ts';
import type { AlertView } from './views.ts';

let anju: TestApp;
let north: Community;
let staff: Browser & { userId: string };
let family: Browser & { userId: string };

beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
  north = await addCommunity(anju, 'North', 3);
  staff = await signedIn(anju, 'staff', { communities: [north.id] });
  family = await signedIn(anju, 'family', { residents: [north.residents[0]!.id] });
});
afterAll(async () => {
  await anju.stop();
});

async function list(tab: Browser, query = ''): Promise<AlertView[]> {
  const res = await tab.get(`/api/v1/alerts${query}`);
  expect(res.status).toBe(200);
  return (await json<{ alerts: AlertView[] }>(res)).alerts;
}

describe('GET /api/v1/alerts', () => {
  it('lists alerts with the resident and home people read, filtered by state, severity and resident', async () => {
    const [a, b, c] = north.residents;
    const sos = await raiseAlert(anju, a!.id, { ruleId: 'event.sos', severity: 'critical' });
    const cold = await raiseAlert(anju, b!.id, { ruleId: 'climate.cold', severity: 'warning' });
    const gas = await raiseAlert(anju, c!.id, { ruleId: 'gas.methane', severity: 'alarm' });
    await anju.alerting.alerts.resolve(gas.id, 'someone', 'false_alarm');

    const all = await list(staff);
    expect(all.map((x) => x.id)).toEqual(expect.arrayContaining([sos.id, cold.id, gas.id]));
    expect(all.find((x) => x.id === sos.id)).toMatchObject({
      residentName: a!.name,
      homeLabel: expect.stringMatching(/^A \/ 1 \//),
      communityId: north.id,
    });
    const active = await list(staff, '?state=active');
    expect(active.map((x) => x.id)).toEqual(expect.arrayContaining([sos.id, cold.id]));
    expect(active.map((x) => x.id)).not.toContain(gas.id);
    expect((await list(staff, '?state=resolved')).map((x) => x.id)).toContain(gas.id);
    expect((await list(staff, '?severity=warning')).map((x) => x.id)).toEqual([cold.id]);
    expect((await list(staff, `?residentId=${a!.id}`)).every((x) => x.residentId === a!.id)).toBe(true);
    expect(await list(staff, '?limit=1')).toHaveLength(1);
  });
});

describe('GET /api/v1/alerts/:id', () => {
  it('returns the alert with its audit trail and deliveries, each recipient by name and relation', async () => {
    const son = await anju.registry.addContact({
      residentId: north.residents[0]!.id,
      name: '王磊',
      relation: 'family',
      channels: ['app'],
    });
    const opened = Date.now();
    const alert = await raiseAlert(anju, north.residents[0]!.id, { ruleId: 'event.smoke', at: opened });
    await anju.alerting.alerts.advanceTo(opened); // the console step goes out at once
    await anju.alerting.alerts.advanceTo(opened + 2 * 60_000 + 1); // then the family's
    const res = await staff.get(`/api/v1/alerts/${alert.id}`);
    expect(res.status).toBe(200);
    const body = await json<{
      alert: AlertView;
      history: AuditEntry[];
      deliveries: Delivery[];
      recipients: Record<string, { name: string; role: string }>;
    }>(res);
    expect(body.recipients[`console:${north.id}`]).toEqual({ name: 'North', role: 'console' });
    expect(body.deliveries.map((d) => d.recipient)).toContain(`contact:${son.id}`);
    expect(body.recipients[`contact:${son.id}`]).toEqual({ name: '王磊', role: 'family' });
    expect(body.alert).toMatchObject({ id: alert.id, state: 'open', residentName: north.residents[0]!.name });
    expect(body.history[0]).toMatchObject({ action: 'opened', actor: 'system' });
    expect(body.deliveries.length).toBeGreaterThan(0);
    expect(body.deliveries[0]).toMatchObject({ channel: 'socketio', address: `community:${north.id}` });
  });

  it("gives family the trail but not the deliveries, which name other people's addresses", async () => {
    const alert = await raiseAlert(anju, north.residents[0]!.id, { ruleId: 'event.water_leak' });
    await anju.alerting.alerts.advanceTo(Date.now());
    const body = await json<{ history: AuditEntry[]; deliveries: Delivery[] }>(
      await family.get(`/api/v1/alerts/${alert.id}`),
    );
    expect(body.history.length).toBeGreaterThan(0);
    expect(body.deliveries).toEqual([]);
  });
});

describe('acting on an alert', () => {
  it('acknowledges, annotates and resolves, recording the signed-in person each time', async () => {
    const alert = await raiseAlert(anju, north.residents[1]!.id, {
      ruleId: 'absence.routine',
      severity: 'alarm',
    });
    const ack = await staff.post(`/api/v1/alerts/${alert.id}/acknowledge`, { note: 'calling her now' });
    expect(ack.status).toBe(200);
    expect((await json<{ alert: AlertView }>(ack)).alert).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: staff.userId,
      note: 'calling her now',
    });
    expect((await staff.post(`/api/v1/alerts/${alert.id}/acknowledge`, {})).status).toBe(409);

    const note = await staff.post(`/api/v1/alerts/${alert.id}/notes`, { note: 'no answer, going over' });
    expect(note.status).toBe(200);
    const resolved = await staff.post(`/api/v1/alerts/${alert.id}/resolve`, {
      outcome: 'other',
      note: 'she was at her daughter’s',
    });
    expect((await json<{ alert: AlertView }>(resolved)).alert).toMatchObject({
      state: 'resolved',
      resolvedBy: staff.userId,
      outcome: 'other',
    });
    expect((await staff.post(`/api/v1/alerts/${alert.id}/resolve`, { outcome: 'other' })).status).toBe(409);

    const trail = (await anju.alerting.alerts.history(alert.id)).filter((h) => h.actor !== 'system');
    expect(trail.map((h) => [h.action, h.actor])).toEqual([
      ['acknowledged', staff.userId],
      ['note', staff.userId],
      ['resolved', staff.userId],
    ]);
  });

  it('names the people who acted, with their role, beside their ids', async () => {
    const alert = await raiseAlert(anju, north.residents[1]!.id, {
      ruleId: 'absence.routine',
      severity: 'alarm',
    });
    await staff.post(`/api/v1/alerts/${alert.id}/acknowledge`, {});
    const me = (await anju.accounts.users.get(staff.userId))!;
    const detail = await json<{ alert: AlertView; people: Record<string, { name: string; role: string }> }>(
      await staff.get(`/api/v1/alerts/${alert.id}`),
    );
    expect(detail.alert.people).toEqual({ [staff.userId]: { name: me.displayName, role: 'staff' } });
    expect(detail.people).toMatchObject({
      system: { name: 'Anju', role: 'system' },
      [staff.userId]: { name: me.displayName, role: 'staff' },
    });
    // The list says it too, so the console names whoever took each alert.
    const { alerts } = await json<{ alerts: AlertView[] }>(await staff.get('/api/v1/alerts?state=active'));
    expect(alerts.find((a) => a.id === alert.id)?.people[staff.userId]?.name).toBe(me.displayName);
  });

  it('lets family say "I\'m on it" and close a gas alert, but not an SOS or a fall', async () => {
    const residentId = north.residents[0]!.id;
    for (const ruleId of ['event.sos', 'event.fall']) {
      const alert = await raiseAlert(anju, residentId, { ruleId });
      const ack = await family.post(`/api/v1/alerts/${alert.id}/acknowledge`, { note: "I'm on it" });
      expect((await json<{ alert: AlertView }>(ack)).alert.acknowledgedBy).toBe(family.userId);
      const refused = await family.post(`/api/v1/alerts/${alert.id}/resolve`, { outcome: 'false_alarm' });
      expect(refused.status, ruleId).toBe(403);
      expect((await anju.alerting.alerts.get(alert.id))!.state).toBe('acknowledged');
    }
    const gas = await raiseAlert(anju, residentId, { ruleId: 'gas.lpg', severity: 'alarm' });
    const closed = await family.post(`/api/v1/alerts/${gas.id}/resolve`, { outcome: 'false_alarm' });
    expect(closed.status).toBe(200);
  });
});
