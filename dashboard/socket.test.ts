// The live console over a real Socket.IO connection to a real anju serve: who may connect, which room an
// alert reaches, acknowledging and resolving through the socket checked against the caller's scope, and
// catching up after a reconnect.
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestAnju, waitFor, type TestAnju } from '../test/harness.ts';
import {
  ADMIN_PASSWORD,
  northAndSouth,
  openSocket,
  raiseAlert,
  record,
  registrySql,
  signedIn,
  type Browser,
  type Community,
} from './test-support.ts';
import path from 'node:path';
import { REGISTRY_FILE } from '../cli/databases.ts';
import { SqliteDatabase } from '../database/sqlite.ts';
import { Accounts } from './accounts/index.ts';
import { sessionKey } from './accounts/sessions.ts';
import type { ActionAck, SyncAck } from './socket.ts';
import { SYSTEM_RESIDENT } from '../alerting/alerts/index.ts';
import { STORAGE_RULE } from '../alerting/storage-alarm.ts';

let anju: TestAnju;
let north: Community;
let south: Community;
let staffNorth: Browser;
let staffSouth: Browser;
let familyA: Browser; // north resident 1
let familyB: Browser; // north resident 2
let admin: Browser;
const open: Socket[] = [];

beforeAll(async () => {
  anju = await startTestAnju({ adminPassword: ADMIN_PASSWORD, sessionCheckS: 0.2 });
  ({ north, south, staffNorth, family: familyA, admin } = await northAndSouth(anju));
  staffSouth = await signedIn(anju, 'staff', { communities: [south.id] });
  familyB = await signedIn(anju, 'family', { residents: [north.residents[1]!.id] });
});
afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
});
afterAll(async () => {
  await anju.stop();
});

async function connect(auth: Parameters<typeof openSocket>[1], options = {}): Promise<Socket> {
  const socket = await openSocket(anju, auth, options);
  open.push(socket);
  return socket;
}

/** A request-response on the socket: every event the server sent before the answer has arrived by then. */
function roundTrip(socket: Socket): Promise<SyncAck> {
  return socket.timeout(2000).emitWithAck('alerts:sync', { since: Date.now() }) as Promise<SyncAck>;
}

describe('connecting', () => {
  it('is refused without a session or token', async () => {
    await expect(openSocket(anju, {})).rejects.toThrow(/unauthorized/);
    await expect(openSocket(anju, { token: 'anju_0000000000000000_' + 'x'.repeat(43) })).rejects.toThrow(
      /unauthorized/,
    );
  });

  it('is refused with a session that has ended', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    const cookie = tab.cookie;
    await tab.request('DELETE', '/api/v1/session');
    tab.cookie = cookie;
    await expect(openSocket(anju, { tab })).rejects.toThrow(/unauthorized/);
  });

  it("is refused when the session cookie rides along from another site's page", async () => {
    await expect(
      openSocket(
        anju,
        { tab: staffNorth },
        { extraHeaders: { cookie: `anju_session=${staffNorth.cookie}`, origin: 'https://evil.example' } },
      ),
    ).rejects.toThrow(/unauthorized/);
  });

  it('is closed by the server when its session signs out', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    const socket = await connect({ tab });
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    expect((await tab.request('DELETE', '/api/v1/session')).status).toBe(204);
    expect(await closed).toBe('io server disconnect');
  });
  it('is closed when another process sharing the database ends its session', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    const socket = await connect({ tab });
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    // Another Anju on the same registry: its own connection, its own Accounts, no shared listeners.
    const db = SqliteDatabase.open(path.join(anju.dataDir, REGISTRY_FILE));
    try {
      await new Accounts(db).sessions.end(sessionKey(tab.cookie!));
    } finally {
      await db.close();
    }
    expect(await closed).toBe('io server disconnect');
  });

  it('is closed by the server when its session expires while it only listens', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    await registrySql(anju, 'UPDATE sessions SET expires_at = ? WHERE id_sha256 = ?', [
      Date.now() + 300,
      sessionKey(tab.cookie!),
    ]);
    const socket = await connect({ tab });
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    expect(await closed).toBe('io server disconnect');
  });
});

describe('alerts reach the rooms that may see them, and no others', () => {
  it('puts a new alert in front of its community staff, its family and admins only', async () => {
    const events = ['alert:new', 'alert:update'];
    const sockets = {
      staffNorth: await connect({ tab: staffNorth }),
      staffSouth: await connect({ tab: staffSouth }),
      familyA: await connect({ tab: familyA }),
      familyB: await connect({ tab: familyB }),
      admin: await connect({ tab: admin }),
      token: await connect({ token: (await anju.registry.tokens.create('socket-test')).token }),
    };
    const seen = Object.fromEntries(Object.entries(sockets).map(([k, s]) => [k, record(s, events)]));
    const resident = north.residents[0]!;
    const alert = await raiseAlert(anju, resident.id, { ruleId: 'event.sos' });

    for (const who of ['staffNorth', 'familyA', 'admin', 'token']) {
      const [first] = await waitFor(() => seen[who]!.length > 0 && seen[who]!, 2000);
      expect(first!.event, who).toBe('alert:new');
      expect(first!.payload, who).toMatchObject({
        alert: {
          id: alert.id,
          residentId: resident.id,
          residentName: resident.name,
          homeLabel: expect.stringMatching(/^A \/ 1 \/ \d+01$/),
        },
        audit: { action: 'opened' },
      });
    }
    for (const who of ['staffSouth', 'familyB'] as const) {
      await roundTrip(sockets[who]);
      expect(
        seen[who]!.filter((e) => (e.payload as { alert: { id: string } }).alert.id === alert.id),
        who,
      ).toEqual([]);
    }
  });

  it('asks the community console to act with the alert named as on every other event (alert:notify)', async () => {
    const socket = await connect({ tab: staffNorth });
    const seen = record(socket, ['alert:notify']);
    const resident = north.residents[1]!;
    const alert = await raiseAlert(anju, resident.id, { ruleId: 'event.fall' });
    const [notify] = await waitFor(() => {
      const mine = seen.filter((e) => (e.payload as { alert: { id: string } }).alert.id === alert.id);
      return mine.length > 0 && mine;
    }, 5000);
    expect(notify!.payload).toMatchObject({
      alert: { id: alert.id, residentName: resident.name, homeLabel: expect.stringMatching(/^A \/ 1 \/ /) },
      recipient: { kind: 'console', id: north.id },
    });
  });

  it("puts Anju's own storage alert in front of every staff console and admins, not families", async () => {
    const sockets = {
      staffNorth: await connect({ tab: staffNorth }),
      staffSouth: await connect({ tab: staffSouth }),
      familyA: await connect({ tab: familyA }),
      admin: await connect({ tab: admin }),
    };
    const seen = Object.fromEntries(Object.entries(sockets).map(([k, s]) => [k, record(s, ['alert:new'])]));
    const alert = await raiseAlert(anju, SYSTEM_RESIDENT, {
      ruleId: STORAGE_RULE,
      severity: 'warning',
      summary: 'Anju storage almost full: 100.0 MB free, warning below 512 MB',
      autoClear: true,
    });
    for (const who of ['staffNorth', 'staffSouth', 'admin']) {
      const [first] = await waitFor(() => seen[who]!.length > 0 && seen[who]!, 2000);
      expect(first!.payload, who).toMatchObject({ alert: { id: alert.id, ruleId: STORAGE_RULE } });
    }
    await roundTrip(sockets.familyA);
    expect(seen.familyA).toEqual([]);
    const ack = (await sockets.staffSouth.emitWithAck('alert:acknowledge', { id: alert.id })) as ActionAck;
    expect(ack).toMatchObject({ ok: true, alert: { state: 'acknowledged' } });
  });

  it('does not let a client join a room by asking', async () => {
    const socket = await connect({ tab: familyB });
    const seen = record(socket, ['alert:new']);
    for (const room of ['alerts:all', `community:${south.id}`, `resident:${south.residents[0]!.id}`]) {
      socket.emit('join', room);
      socket.emit('subscribe', { room });
    }
    await roundTrip(socket);
    await raiseAlert(anju, south.residents[0]!.id, { ruleId: 'event.smoke' });
    await roundTrip(socket);
    expect(seen).toEqual([]);
  });
});

describe('acting through the socket', () => {
  it('acknowledges an alert in scope, recording the user as actor, and tells the other consoles', async () => {
    const alert = await raiseAlert(anju, north.residents[1]!.id, {
      ruleId: 'gas.methane',
      severity: 'alarm',
    });
    const watcher = await connect({ tab: admin });
    const updates = record(watcher, ['alert:update']);
    const socket = await connect({ tab: staffNorth });
    const ack = (await socket.emitWithAck('alert:acknowledge', {
      id: alert.id,
      note: 'on my way',
    })) as ActionAck;
    expect(ack).toMatchObject({
      ok: true,
      alert: { id: alert.id, state: 'acknowledged', note: 'on my way' },
    });
    const username = (staffNorth as Browser & { username: string }).username;
    const userId = (await anju.accounts.users.credentials(username))!.user.id;
    expect((await anju.alerting.alerts.get(alert.id))!.acknowledgedBy).toBe(userId);
    expect((await anju.alerting.alerts.history(alert.id)).at(-1)).toMatchObject({
      action: 'acknowledged',
      actor: userId,
    });
    await waitFor(() =>
      updates.some((u) => (u.payload as { alert: { state: string } }).alert.state === 'acknowledged'),
    );
  });

  it("refuses to acknowledge or resolve an alert outside the caller's scope, changing nothing", async () => {
    const alert = await raiseAlert(anju, north.residents[0]!.id, {
      ruleId: 'event.water_leak',
      severity: 'alarm',
    });
    for (const tab of [staffSouth, familyB]) {
      const socket = await connect({ tab });
      expect(await socket.emitWithAck('alert:acknowledge', { id: alert.id })).toEqual({
        ok: false,
        status: 403,
        error: 'this is outside what you may see',
      });
      expect(
        await socket.emitWithAck('alert:resolve', { id: alert.id, outcome: 'false_alarm' }),
      ).toMatchObject({
        ok: false,
        status: 403,
      });
    }
    expect(await anju.alerting.alerts.get(alert.id)).toMatchObject({ state: 'open', acknowledgedBy: null });
  });

  it('lets family say "I\'m on it" but leaves closing an SOS to staff', async () => {
    const alert = await raiseAlert(anju, north.residents[0]!.id, { ruleId: 'event.sos' });
    const family = await connect({ tab: familyA });
    expect(await family.emitWithAck('alert:acknowledge', { id: alert.id })).toMatchObject({ ok: true });
    expect(await family.emitWithAck('alert:resolve', { id: alert.id, outcome: 'false_alarm' })).toMatchObject(
      {
        ok: false,
        status: 403,
      },
    );
    const staff = await connect({ tab: staffNorth });
    const resolved = (await staff.emitWithAck('alert:resolve', {
      id: alert.id,
      outcome: 'emergency',
      note: 'ambulance called',
    })) as ActionAck;
    expect(resolved).toMatchObject({ ok: true, alert: { state: 'resolved', outcome: 'emergency' } });
    expect(await staff.emitWithAck('alert:resolve', { id: alert.id, outcome: 'emergency' })).toMatchObject({
      ok: false,
      status: 409,
    });
  });

  it('answers malformed requests with 400 and unknown alerts with 403', async () => {
    const socket = await connect({ tab: staffNorth });
    for (const payload of [
      null,
      'al_x',
      { id: 5 },
      { id: 'al_x', outcome: 'nonsense' },
      { id: 'x'.repeat(500) },
    ]) {
      expect(await socket.emitWithAck('alert:resolve', payload)).toMatchObject({ ok: false, status: 400 });
    }
    expect(await socket.emitWithAck('alert:acknowledge', { id: "al_' OR 1=1 --" })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(await socket.emitWithAck('alerts:sync', { since: 'yesterday' })).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it('stops acting for a socket whose session ended while it was connected', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    const socket = await connect({ tab }, { reconnection: false });
    const closed = new Promise((resolve) => socket.once('disconnect', resolve));
    await registrySql(anju, 'UPDATE sessions SET expires_at = 0 WHERE id_sha256 = ?', [
      sessionKey(tab.cookie!),
    ]);
    const alert = await raiseAlert(anju, north.residents[1]!.id, {
      ruleId: 'event.smoke',
      severity: 'critical',
    });
    expect(await socket.emitWithAck('alert:acknowledge', { id: alert.id })).toMatchObject({
      ok: false,
      status: 401,
    });
    expect((await anju.alerting.alerts.get(alert.id))!.state).toBe('open');
    expect(await closed).toBe('io server disconnect');
  });
});

describe('catching up after a reconnect', () => {
  it('returns what changed in scope while the console was away', async () => {
    const tab = await signedIn(anju, 'staff', { communities: [north.id] });
    const socket = await connect({ tab }, { reconnection: false });
    const seen = record(socket, ['alert:new']);
    const before = await raiseAlert(anju, north.residents[0]!.id, {
      ruleId: 'climate.cold',
      severity: 'warning',
    });
    await waitFor(() => seen.length > 0);
    const lastSeen = (seen[0]!.payload as { alert: { updatedAt: number } }).alert.updatedAt;

    socket.disconnect();
    await new Promise((r) => setTimeout(r, 5)); // so the changes below are later than what was seen
    const missed = await raiseAlert(anju, north.residents[1]!.id, {
      ruleId: 'absence.routine',
      severity: 'alarm',
    });
    await anju.alerting.alerts.acknowledge(before.id, 'someone-else', 'handled by phone');
    const elsewhere = await raiseAlert(anju, south.residents[0]!.id, {
      ruleId: 'absence.routine',
      severity: 'alarm',
    });

    socket.connect();
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const sync = (await socket.emitWithAck('alerts:sync', { since: lastSeen + 1 })) as SyncAck;
    if (!sync.ok) throw new Error(sync.error);
    const byId = new Map(sync.alerts.map((a) => [a.id, a]));
    expect(byId.get(missed.id)).toMatchObject({ state: 'open', residentName: north.residents[1]!.name });
    expect(byId.get(before.id)).toMatchObject({ state: 'acknowledged', note: 'handled by phone' });
    expect(byId.has(elsewhere.id)).toBe(false);
    expect(sync.alerts.every((a) => a.communityId === north.id && a.updatedAt > lastSeen)).toBe(true);
  });
});
