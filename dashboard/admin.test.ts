// What an admin does from the dashboard, against a real anju serve: register residents, contacts and
// devices (the secret works over MQTT, once), revoke a device (cut off at once), create users of each
// role, set a resident's rule thresholds; and what the homes and devices pages show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../firmware-protocol/index.ts';
import { connectDevice, startTestAnju, waitFor, type TestAnju } from '../test/harness.ts';
import {
  ADMIN_PASSWORD,
  addCommunity,
  browser,
  json,
  raiseAlert,
  signedIn,
  signedInAdmin,
  type Browser,
  type Community,
} from './test-support.ts';
import type { DeviceView } from './views.ts';

let anju: TestAnju;
let admin: Browser;
let north: Community;

beforeAll(async () => {
  anju = await startTestAnju({ adminPassword: ADMIN_PASSWORD });
  admin = await signedInAdmin(anju);
  north = await addCommunity(anju, 'North', 5);
});
afterAll(async () => {
  await anju.stop();
});

const address = { community: 'West', compound: '阳光苑', building: '3幢', home: '2-301' };

describe('residents and contacts', () => {
  it('registers a resident, creating the home by name, and refuses the same person twice', async () => {
    const res = await admin.post('/api/v1/residents', {
      name: '王秀英',
      birthYear: 1941,
      livesAlone: true,
      address,
    });
    expect(res.status).toBe(201);
    const { resident } = await json<{ resident: { id: string; home: { building: string } } }>(res);
    expect(resident.home.building).toBe('3幢');
    expect((await anju.registry.getResident(resident.id))!.name).toBe('王秀英');
    const again = await admin.post('/api/v1/residents', { name: '王秀英', address });
    expect(again.status).toBe(409);
  });

  it("sets a home's and a community's time zone, shown on the resident page, and refuses an unknown one", async () => {
    const resident = north.residents[1]!;
    const home = await admin.put(`/api/v1/homes/${resident.homeId}/time-zone`, { timeZone: 'europe/berlin' });
    expect(home.status).toBe(200);
    expect((await json<{ home: { timeZone: string } }>(home)).home.timeZone).toBe('Europe/Berlin');
    const communityId = (await anju.registry.getHome(resident.homeId))!.communityId;
    const community = await admin.put(`/api/v1/communities/${communityId}/time-zone`, {
      timeZone: 'Asia/Urumqi',
    });
    expect(community.status).toBe(200);
    const page = await json<{ resident: { home: { timeZone: string; communityTimeZone: string } } }>(
      await admin.get(`/api/v1/residents/${resident.id}`),
    );
    expect(page.resident.home).toMatchObject({ timeZone: 'Europe/Berlin', communityTimeZone: 'Asia/Urumqi' });
    const bad = await admin.put(`/api/v1/homes/${resident.homeId}/time-zone`, { timeZone: 'Mars/Base' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/unknown IANA time zone/);
    const nowhere = await admin.put('/api/v1/communities/cm_0000000000000000/time-zone', { timeZone: null });
    expect(nowhere.status).toBe(404);
    // The rules use it: the home's residents now live on Berlin time.
    expect(await anju.registry.timeZoneOf(resident.id)).toBe('Europe/Berlin');
  });

  it('adds a contact, checking that an e-mail channel has an address', async () => {
    const residentId = north.residents[0]!.id;
    const ok = await admin.post(`/api/v1/residents/${residentId}/contacts`, {
      name: '李明',
      relation: 'family',
      phone: '+8613800000000',
      channels: ['app', 'sms'],
    });
    expect(ok.status).toBe(201);
    const noEmail = await admin.post(`/api/v1/residents/${residentId}/contacts`, {
      name: '李明',
      relation: 'family',
      channels: ['email'],
    });
    expect(noEmail.status).toBe(400);
    expect((await json(noEmail)).detail).toMatch(/email/);
    const page = await json<{ contacts: { name: string }[] }>(
      await admin.get(`/api/v1/residents/${residentId}`),
    );
    expect(page.contacts.map((c) => c.name)).toEqual(['李明']);
    const unknown = await admin.post('/api/v1/residents/rs_0000000000000000/contacts', {
      name: 'X',
      relation: 'family',
    });
    expect(unknown.status).toBe(404);
  });
});

describe('devices', () => {
  it('registers a device whose secret, shown once, connects over MQTT; revoking it cuts it off at once', async () => {
    const res = await admin.post('/api/v1/devices', {
      id: 'watch-admin-1',
      kind: 'wearable',
      residentId: north.residents[1]!.id,
    });
    expect(res.status).toBe(201);
    const { device, secret } = await json<{ device: DeviceView; secret: string }>(res);
    expect(device).toMatchObject({ id: 'watch-admin-1', revoked: false, online: false, battery: null });
    const listed = await json<{ devices: (DeviceView & { secret?: string })[] }>(
      await admin.get('/api/v1/devices'),
    );
    expect(listed.devices.find((d) => d.id === 'watch-admin-1')).not.toHaveProperty('secret');

    const client = await connectDevice(anju, { id: device.id, secret });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const started = Date.now();
    const revoke = await admin.post('/api/v1/devices/watch-admin-1/revoke', {});
    expect(revoke.status).toBe(200);
    expect((await json<{ device: DeviceView }>(revoke)).device.revoked).toBe(true);
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
    await client.endAsync(true);
  });

  it('refuses a duplicate id, an unknown resident and a device with neither resident nor home', async () => {
    const base = { id: 'gas-admin-1', kind: 'gas_sensor', homeId: north.residents[2]!.homeId };
    expect((await admin.post('/api/v1/devices', base)).status).toBe(201);
    expect((await admin.post('/api/v1/devices', base)).status).toBe(409);
    const unknown = await admin.post('/api/v1/devices', {
      id: 'x-1',
      kind: 'wearable',
      residentId: 'rs_nobody',
    });
    expect(unknown.status).toBe(400);
    expect((await admin.post('/api/v1/devices', { id: 'x-2', kind: 'wearable' })).status).toBe(400);
    expect((await admin.post('/api/v1/devices/no-such-device/revoke', {})).status).toBe(404);
  });

  it('shows battery, firmware and signal from the latest readings, and refused messages by reason', async () => {
    const res = await admin.post('/api/v1/devices', {
      id: 'env-admin-1',
      kind: 'env_monitor',
      homeId: north.residents[3]!.homeId,
      room: 'living',
    });
    const { secret } = await json<{ secret: string }>(res);
    const client = await connectDevice(anju, { id: 'env-admin-1', secret });
    const now = Date.now();
    await client.publishAsync(
      topicFor('env-admin-1', 'heartbeat'),
      JSON.stringify({ ts: now, seq: 1, firmware: '1.4.2', rssi: -67, battery: 77, uptime: 100 }),
      { qos: 1 },
    );
    await client.publishAsync(topicFor('env-admin-1', 'telemetry'), '{not json', { qos: 1 });
    await waitFor(
      () => anju.journal.depth('store') === 0 && anju.gateway.refusals.forDevice('env-admin-1').E_JSON,
    );
    const view = await waitFor(async () => {
      const { devices } = await json<{ devices: DeviceView[] }>(await admin.get('/api/v1/devices'));
      const found = devices.find((d) => d.id === 'env-admin-1');
      return found?.battery !== null && found;
    });
    expect(view).toMatchObject({
      kind: 'env_monitor',
      room: 'living',
      online: true,
      battery: 77,
      firmware: '1.4.2',
      rssi: -67,
      refused: { E_JSON: 1 },
    });
    await client.endAsync();
  });
});

describe('users', () => {
  it('creates staff for communities and family for residents, who can then sign in', async () => {
    const staff = await admin.post('/api/v1/users', {
      username: 'Grid.Worker-1',
      displayName: '张三',
      role: 'staff',
      password: 'a-long-password',
      communities: [north.id],
    });
    expect(staff.status).toBe(201);
    expect((await json<{ user: Record<string, unknown> }>(staff)).user).toMatchObject({
      username: 'grid.worker-1',
      role: 'staff',
      communities: [north.id],
      residents: [],
    });
    const family = await admin.post('/api/v1/users', {
      username: 'daughter',
      displayName: '李娜',
      role: 'family',
      password: 'another-long-password',
      residents: [north.residents[0]!.id],
      language: 'en',
    });
    expect(family.status).toBe(201);
    const { users } = await json<{ users: { username: string }[] }>(await admin.get('/api/v1/users'));
    expect(users.map((u) => u.username)).toEqual(
      expect.arrayContaining(['admin', 'grid.worker-1', 'daughter']),
    );
    expect(JSON.stringify(users)).not.toMatch(/scrypt|password/i);
    expect((await browser(anju).signIn('grid.worker-1', 'a-long-password')).status).toBe(200);
  });

  it('disables a user, ending their sessions, and enables them again; never the last admin or oneself', async () => {
    const staff = await signedIn(anju, 'staff', { communities: [north.id] });
    const disabled = await admin.post(`/api/v1/users/${staff.userId}/disable`);
    expect(disabled.status).toBe(200);
    expect((await json<{ user: { disabledAt: number | null } }>(disabled)).user.disabledAt).toBeGreaterThan(
      0,
    );
    expect((await staff.get('/api/v1/session')).status).toBe(401);
    // A disabled account answers like a wrong password.
    expect((await browser(anju).signIn(staff.username, staff.password)).status).toBe(401);
    expect((await admin.post(`/api/v1/users/${staff.userId}/enable`)).status).toBe(200);
    expect((await browser(anju).signIn(staff.username, staff.password)).status).toBe(200);
    const me = await json<{ user: { id: string } }>(await admin.get('/api/v1/session'));
    expect((await admin.post(`/api/v1/users/${me.user.id}/disable`)).status).toBe(400);
    const other = await signedIn(anju, 'admin');
    // With two admins, one may disable the other (an API token could not disable the last: 409).
    const otherId = (await json<{ user: { id: string } }>(await other.get('/api/v1/session'))).user.id;
    expect((await admin.post(`/api/v1/users/${otherId}/disable`)).status).toBe(200);
    expect((await admin.post(`/api/v1/users/us_0000000000000000/disable`)).status).toBe(404);
    await admin.post(`/api/v1/users/${otherId}/enable`);
  });

  it("resets a user's password by the policy, ending their sessions", async () => {
    const staff = await signedIn(anju, 'staff', { communities: [north.id] });
    const weak = await admin.put(`/api/v1/users/${staff.userId}/password`, { password: '1234567890' });
    expect(weak.status).toBe(400);
    expect((await staff.get('/api/v1/session')).status).toBe(200);
    const reset = await admin.put(`/api/v1/users/${staff.userId}/password`, { password: 'a-fresh-start-9' });
    expect(reset.status).toBe(204);
    expect((await staff.get('/api/v1/session')).status).toBe(401);
    expect((await browser(anju).signIn(staff.username, 'a-fresh-start-9')).status).toBe(200);
    // Only an admin may.
    const other = await signedIn(anju, 'staff', { communities: [north.id] });
    expect(
      (await other.put(`/api/v1/users/${staff.userId}/password`, { password: 'x-y-z-1-2-3-q' })).status,
    ).toBe(403);
  });

  it.each([
    ['a taken username', { username: 'admin' }, 409],
    ['an unknown community', { communities: ['cm_0000000000000000'] }, 400],
    ['a short password', { password: 'short' }, 400],
    ['a username with spaces', { username: 'two words' }, 400],
    ['residents for staff', { residents: ['rs_x'] }, 400],
    ['an unknown role', { role: 'root' }, 400],
  ])('refuses %s', async (_what, change, status) => {
    const body = {
      username: 'new-staff',
      displayName: 'New',
      role: 'staff',
      password: 'long-enough-pw',
      communities: [north.id],
      ...change,
    };
    expect((await admin.post('/api/v1/users', body)).status).toBe(status);
    expect(await anju.accounts.users.credentials('new-staff')).toBeUndefined();
  });

  it('refuses a family member without a resident', async () => {
    const res = await admin.post('/api/v1/users', {
      username: 'lonely',
      displayName: 'X',
      role: 'family',
      password: 'long-enough-pw',
    });
    expect(res.status).toBe(400);
  });
});

describe("a resident's rule thresholds", () => {
  it('shows the community rules, stores valid overrides and tells the rule engine', async () => {
    const residentId = north.residents[4]!.id;
    const empty = await json<{ overrides: object; community: { gas: { methane: { alarm: number } } } }>(
      await admin.get(`/api/v1/residents/${residentId}/rules`),
    );
    expect(empty.overrides).toEqual({});
    expect(empty.community.gas.methane.alarm).toBe(25);

    const changed: string[] = [];
    const stop = anju.residentRules.onChange((r) => changed.push(r.residentId));
    const overrides = { gas: { methane: { warning: 5, alarm: 15 } } };
    const res = await admin.put(`/api/v1/residents/${residentId}/rules`, { overrides });
    stop();
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      residentId,
      overrides,
      updatedBy: expect.stringMatching(/^us_/),
    });
    expect(await anju.residentRules.all()).toMatchObject({ [residentId]: overrides });
    expect(changed).toEqual([residentId]);
  });

  it('refuses overrides that make invalid rules, listing each problem, and keeps the old ones', async () => {
    const residentId = north.residents[4]!.id;
    const before = await anju.residentRules.get(residentId);
    const res = await admin.put(`/api/v1/residents/${residentId}/rules`, {
      overrides: { gas: { methane: { alarm: 80 }, propane: {} }, co: { decayMin: -1 } },
    });
    expect(res.status).toBe(400);
    const body = await json<{ errors: { path: string; message: string }[] }>(res);
    const paths = body.errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['gas.methane', 'gas', 'co.decayMin']));
    expect(await anju.residentRules.get(residentId)).toEqual(before);
  });
});

describe('the homes overview', () => {
  it("shows each home as the rule engine judges it, most urgent first, and 'never' only without any report", async () => {
    const [alerting, offline, quiet, lively, heartbeats, empty] = await Promise.all(
      ['Alerting', 'Offline', 'Quiet', 'Lively', 'Heartbeats', 'Empty'].map(async (name) =>
        addCommunity(anju, `Homes ${name}`, 1),
      ),
    ).then((cs) => cs.map((c) => c.residents[0]!));
    const now = Date.now();
    await raiseAlert(anju, alerting!.id);
    // Registered, never heard from.
    await anju.registry.addDevice({ id: 'watch-offline', kind: 'wearable', residentId: offline!.id });
    // Motion 20 h ago (uploaded late) and none since, and motion an hour ago, through MQTT and the rules.
    for (const [home, id, motionAt] of [
      [quiet!, 'env-quiet', now - 20 * 3_600_000],
      [lively!, 'env-lively', now - 3_600_000],
      [heartbeats!, 'env-heartbeats', null],
    ] as const) {
      const { secret } = await anju.registry.addDevice({ id, kind: 'env_monitor', homeId: home.homeId });
      const client = await connectDevice(anju, { id, secret });
      let seq = 0;
      const send = (channel: 'telemetry' | 'heartbeat', body: object) =>
        client.publishAsync(topicFor(id, channel), JSON.stringify({ seq: ++seq, ...body }), { qos: 1 });
      if (motionAt !== null) await send('telemetry', { ts: motionAt, motion: true });
      await send('heartbeat', { ts: now - 60_000, firmware: '1.0.0', rssi: -60, uptime: 100 });
      await client.endAsync();
    }
    const engine = anju.alerting.engine;
    await waitFor(() => engine.judgement(quiet!.id)?.inactive === true, 10_000);
    await waitFor(() => engine.judgement(heartbeats!.id)?.lastReport != null, 10_000);
    // Staff closed the inactivity alert, but nobody has moved since: the tile still says so.
    const absence = (
      await anju.alerting.alerts.list({ residentIds: [quiet!.id], state: 'active', limit: 10 })
    ).find((a) => a.ruleId === 'absence.routine');
    expect(absence).toBeDefined();
    await anju.alerting.alerts.resolve(absence!.id, 'someone', 'other');

    type Tile = {
      homeId: string;
      status: string;
      openAlerts: number;
      offlineDevices: string[];
      lastActivityAt: number | null;
      lastReportAt: number | null;
    };
    const { homes } = await json<{ homes: Tile[] }>(await admin.get('/api/v1/homes'));
    const tile = (r: { homeId: string }) => homes.find((h) => h.homeId === r.homeId);
    expect(tile(alerting!)).toMatchObject({ status: 'alert', openAlerts: 1 });
    expect(tile(offline!)).toMatchObject({
      status: 'device_offline',
      offlineDevices: ['watch-offline'],
      lastReportAt: null,
    });
    expect(tile(quiet!)).toMatchObject({
      status: 'no_recent_activity',
      lastActivityAt: now - 20 * 3_600_000,
    });
    expect(tile(lively!)).toMatchObject({ status: 'ok', lastActivityAt: now - 3_600_000 });
    // Heartbeats are reports, not signs of life: not "never", and no activity either.
    expect(tile(heartbeats!)).toMatchObject({ status: 'ok', lastActivityAt: null });
    expect(tile(heartbeats!)!.lastReportAt).toBeGreaterThanOrEqual(now - 60_000);
    expect(tile(empty!)).toMatchObject({
      status: 'ok',
      lastActivityAt: null,
      lastReportAt: null,
      residents: [{ id: empty!.id }],
    });
  });
});

describe('the OpenAPI document', () => {
  it('describes every dashboard route with its request schema', async () => {
    const doc = await json<{
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    }>(await fetch(`http://127.0.0.1:${anju.ports.http}/api/openapi.json`));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/session',
        '/api/v1/alerts',
        '/api/v1/alerts/{id}/resolve',
        '/api/v1/homes',
        '/api/v1/residents/{id}',
        '/api/v1/residents/{id}/rules',
        '/api/v1/devices/{id}/revoke',
        '/api/v1/users',
        '/api/v1/me/preferences',
      ]),
    );
    const resolve = doc.paths['/api/v1/alerts/{id}/resolve']!.post!.requestBody!.content['application/json']!;
    expect(JSON.stringify(resolve.schema)).toContain('false_alarm');
  });
});
