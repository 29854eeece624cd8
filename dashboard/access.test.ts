// Who sees what, over HTTP against the dashboard app: a family member sees their relative and nobody
// else, by list or by URL; staff see their own communities; admin-only routes stay admin-only; an API
// token acts as admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import {
  ADMIN_PASSWORD,
  browser,
  json,
  northAndSouth,
  raiseAlert,
  signedIn,
  type Browser,
  type Community,
} from './test-support.ts';

let anju: TestApp;
let north: Community;
let south: Community;
let family: Browser; // family of north resident 1
let staffNorth: Browser;
let admin: Browser;
let relative: { id: string; homeId: string };
let neighbour: { id: string; homeId: string }; // north resident 2
let southResident: { id: string; homeId: string };
const devices = {
  relative: 'watch-relative',
  neighbour: 'watch-neighbour',
  south: 'watch-south',
  home: 'env-relative',
};
const alerts: Record<'relative' | 'neighbour' | 'south', string> = { relative: '', neighbour: '', south: '' };

beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
  ({ north, south, family, staffNorth, admin } = await northAndSouth(anju));
  relative = north.residents[0]!;
  neighbour = north.residents[1]!;
  southResident = south.residents[0]!;
  await anju.registry.addDevice({ id: devices.relative, kind: 'wearable', residentId: relative.id });
  await anju.registry.addDevice({ id: devices.neighbour, kind: 'wearable', residentId: neighbour.id });
  await anju.registry.addDevice({ id: devices.south, kind: 'wearable', residentId: southResident.id });
  await anju.registry.addDevice({ id: devices.home, kind: 'env_monitor', homeId: relative.homeId });
  alerts.relative = (await raiseAlert(anju, relative.id)).id;
  alerts.neighbour = (await raiseAlert(anju, neighbour.id)).id;
  alerts.south = (await raiseAlert(anju, southResident.id)).id;
});
afterAll(async () => {
  await anju.stop();
});

async function status(tab: Browser, path: string): Promise<number> {
  return (await tab.get(path)).status;
}

describe('a family member', () => {
  it('sees their relative in every list, and nobody else', async () => {
    const { residents } = await json<{ residents: { id: string }[] }>(await family.get('/api/v1/residents'));
    expect(residents.map((r) => r.id)).toEqual([relative.id]);
    const { homes } = await json<{ homes: { homeId: string; residents: { id: string }[] }[] }>(
      await family.get('/api/v1/homes'),
    );
    expect(homes.map((h) => h.homeId)).toEqual([relative.homeId]);
    const { alerts: seen } = await json<{ alerts: { id: string }[] }>(await family.get('/api/v1/alerts'));
    expect(seen.map((a) => a.id)).toEqual([alerts.relative]);
    const { devices: own } = await json<{ devices: { id: string }[] }>(await family.get('/api/v1/devices'));
    expect(own.map((d) => d.id).sort()).toEqual([devices.home, devices.relative]);
  });

  it("opens their relative's page, readings, latest values, devices and alerts", async () => {
    expect(await status(family, `/api/v1/residents/${relative.id}`)).toBe(200);
    expect(await status(family, `/api/v1/residents/${relative.id}/readings?measurement=heartRate`)).toBe(200);
    expect(await status(family, `/api/v1/residents/${relative.id}/latest`)).toBe(200);
    expect(await status(family, `/api/v1/devices/${devices.relative}/latest`)).toBe(200);
    expect(await status(family, `/api/v1/devices/${devices.home}/latest`)).toBe(200);
    expect(await status(family, `/api/v1/alerts/${alerts.relative}`)).toBe(200);
    expect(await status(family, `/api/v1/alerts?residentId=${relative.id}`)).toBe(200);
  });

  it.each([
    ["another resident's page", () => `/api/v1/residents/${neighbour.id}`],
    ["another resident's readings", () => `/api/v1/residents/${neighbour.id}/readings?measurement=heartRate`],
    ["another resident's latest values", () => `/api/v1/residents/${southResident.id}/latest`],
    [
      "another resident's device's readings",
      () => `/api/v1/devices/${devices.neighbour}/readings?measurement=heartRate`,
    ],
    ["another resident's device's latest values", () => `/api/v1/devices/${devices.south}/latest`],
    ["another resident's alert", () => `/api/v1/alerts/${alerts.neighbour}`],
    ["another resident's alert list", () => `/api/v1/alerts?residentId=${neighbour.id}`],
    ['a resident that does not exist', () => '/api/v1/residents/rs_0000000000000000'],
    ['an alert that does not exist', () => '/api/v1/alerts/al_0000000000000000'],
  ])('gets 403 by URL for %s', async (_what, path) => {
    const res = await family.get(path());
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it("cannot act on another resident's alert, which stays as it was", async () => {
    const ack = await family.post(`/api/v1/alerts/${alerts.neighbour}/acknowledge`, { note: 'me' });
    expect(ack.status).toBe(403);
    const note = await family.post(`/api/v1/alerts/${alerts.neighbour}/notes`, { note: 'me' });
    expect(note.status).toBe(403);
    const alert = (await anju.alerting.alerts.get(alerts.neighbour))!;
    expect(alert.state).toBe('open');
    const actions = (await anju.alerting.alerts.history(alert.id)).map((h) => h.action);
    expect(actions).not.toContain('acknowledged');
    expect(actions).not.toContain('note');
  });
});

describe('staff', () => {
  it('see the residents, homes, devices and alerts of their communities only', async () => {
    const { residents } = await json<{ residents: { id: string }[] }>(
      await staffNorth.get('/api/v1/residents'),
    );
    expect(residents.map((r) => r.id).sort()).toEqual(north.residents.map((r) => r.id).sort());
    const { homes } = await json<{ homes: { communityId: string }[] }>(await staffNorth.get('/api/v1/homes'));
    expect(new Set(homes.map((h) => h.communityId))).toEqual(new Set([north.id]));
    const { alerts: seen } = await json<{ alerts: { id: string }[] }>(await staffNorth.get('/api/v1/alerts'));
    expect(seen.map((a) => a.id).sort()).toEqual([alerts.relative, alerts.neighbour].sort());
    const { devices: own } = await json<{ devices: { id: string }[] }>(
      await staffNorth.get('/api/v1/devices'),
    );
    expect(own.map((d) => d.id).sort()).toEqual([devices.home, devices.neighbour, devices.relative].sort());
  });

  it('get 403 for residents, devices and alerts of other communities', async () => {
    expect(await status(staffNorth, `/api/v1/residents/${southResident.id}`)).toBe(403);
    expect(await status(staffNorth, `/api/v1/devices/${devices.south}/latest`)).toBe(403);
    expect(await status(staffNorth, `/api/v1/alerts/${alerts.south}`)).toBe(403);
    expect(await status(staffNorth, `/api/v1/alerts?residentId=${southResident.id}`)).toBe(403);
    expect((await staffNorth.post(`/api/v1/alerts/${alerts.south}/acknowledge`, {})).status).toBe(403);
  });

  it('assigned to two communities see both', async () => {
    const both = await signedIn(anju, 'staff', { communities: [north.id, south.id] });
    const { alerts: seen } = await json<{ alerts: unknown[] }>(await both.get('/api/v1/alerts'));
    expect(seen).toHaveLength(3);
  });
});

describe('admin-only routes', () => {
  it.each([
    ['GET', '/api/v1/users', undefined],
    [
      'POST',
      '/api/v1/users',
      { username: 'x-user', displayName: 'X', role: 'admin', password: 'long-enough-pw' },
    ],
    ['GET', '/api/v1/audit/logins', undefined],
    [
      'POST',
      '/api/v1/residents',
      { name: 'X', address: { community: 'N', compound: 'A', building: '1', home: '1' } },
    ],
    ['POST', '/api/v1/devices', { id: 'dev-x', kind: 'wearable', homeId: 'hm_x' }],
    ['POST', '/api/v1/devices/watch-relative/revoke', {}],
    ['POST', '/api/v1/residents/RESIDENT/contacts', { name: 'X', relation: 'family' }],
    ['GET', '/api/v1/residents/RESIDENT/rules', undefined],
    ['PUT', '/api/v1/residents/RESIDENT/rules', { overrides: {} }],
  ])('refuse %s %s to staff and family with 403', async (method, path, body) => {
    const url = path.replace('RESIDENT', relative.id);
    for (const tab of [staffNorth, family]) {
      const res = await tab.request(method, url, body);
      expect(res.status, `${method} ${url}`).toBe(403);
    }
    expect((await anju.registry.getDevice(devices.relative))!.revokedAt).toBeNull();
    expect(await anju.accounts.users.credentials('x-user')).toBeUndefined();
  });

  it('are open to an admin, and to an API token, which acts as admin', async () => {
    expect(await status(admin, '/api/v1/users')).toBe(200);
    expect(await status(admin, `/api/v1/residents/${southResident.id}`)).toBe(200);
    expect(await status(admin, '/api/v1/residents/rs_0000000000000000')).toBe(404);
    const { token } = await anju.registry.tokens.create('access-test');
    const client = browser(anju);
    const bearer = { headers: { authorization: `Bearer ${token}` } };
    expect((await client.request('GET', '/api/v1/users', undefined, bearer)).status).toBe(200);
    const { alerts: all } = await json<{ alerts: unknown[] }>(
      await client.request('GET', '/api/v1/alerts', undefined, bearer),
    );
    expect(all).toHaveLength(3);
  });
});
