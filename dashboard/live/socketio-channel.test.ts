import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import type { ResidentDirectory } from '../../alerting/alerts/directory.ts';
import { AlertService } from '../../alerting/alerts/service.ts';
import { raise, settableClock, T0 } from '../../alerting/alerts/test-support.ts';
import { publishAlertChanges } from './alert-changes.ts';
import { ALERT_EVENTS, type AlertChangePayload, type AlertNotifyPayload } from './events.ts';
import { ALL_ALERTS_ROOM, communityRoom, residentRoom } from './rooms.ts';
import { SocketIoChannel } from './socketio-channel.ts';

const tempDir = useTempDirs();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

// Two communities; 王 lives in cm_a and has a daughter on the family app.
const directory: ResidentDirectory = {
  resident: async (id) =>
    ({
      rs_wang: {
        id,
        name: '王秀兰',
        communityId: 'cm_a',
        home: '阳光社区 / 3幢 / 2-301',
        language: 'zh-CN' as const,
        contacts: [
          {
            id: 'ct_daughter',
            residentId: 'rs_wang',
            name: '王丽',
            relation: 'family' as const,
            phone: null,
            email: null,
            channels: ['app' as const],
            escalationOrder: 1,
            createdAt: T0,
          },
        ],
      },
      rs_liu: { id, name: '刘建国', communityId: 'cm_b', home: '', language: 'zh-CN' as const, contacts: [] },
    })[id],
};

/** A real Socket.IO server on a free loopback port; the test puts each client in the rooms it names. */
async function startServer(): Promise<{ io: Server; url: string }> {
  const http = createServer();
  const io = new Server(http);
  io.on('connection', (socket) => {
    // Stands in for the dashboard's room assignment after login.
    socket.on('join', (rooms: string[], ack: () => void) => {
      void socket.join(rooms);
      ack();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => void io.close(() => resolve())));
  return { io, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}

interface Client {
  socket: Socket;
  got: string[];
  payloads: unknown[];
}

async function client(url: string, rooms: string[]): Promise<Client> {
  const socket = connect(url, { transports: ['websocket'], forceNew: true });
  cleanups.push(() => void socket.close());
  const c: Client = { socket, got: [], payloads: [] };
  for (const event of [...Object.values(ALERT_EVENTS), 'sentinel']) {
    socket.on(event, (payload: unknown) => {
      c.got.push(event);
      c.payloads.push(payload);
    });
  }
  await socket.emitWithAck('join', rooms);
  return c;
}

/** Events to one socket arrive in order: once the sentinel is in, nothing sent before it is on its way. */
async function settle(io: Server, clients: Client[]): Promise<void> {
  io.emit('sentinel');
  await expect
    .poll(() => clients.every((c) => c.got.at(-1) === 'sentinel'), { timeout: 2000, interval: 5 })
    .toBe(true);
  for (const c of clients) {
    c.got.pop();
    c.payloads.pop();
  }
}

describe('alerts over Socket.IO', () => {
  it('pushes each alert change to its community staff, its resident family and admins only', async () => {
    const { io, url } = await startServer();
    const staffA = await client(url, [communityRoom('cm_a')]);
    const staffB = await client(url, [communityRoom('cm_b')]);
    const familyWang = await client(url, [residentRoom('rs_wang')]);
    const familyLiu = await client(url, [residentRoom('rs_liu')]);
    const admin = await client(url, [ALL_ALERTS_ROOM]);
    const everyone = [staffA, staffB, familyWang, familyLiu, admin];

    const service = await AlertService.open({ dataDir: tempDir(), clock: settableClock(), directory });
    cleanups.push(() => service.close());
    publishAlertChanges(io, service);

    const { alert } = (await service.apply(
      raise({ residentId: 'rs_wang', ruleId: 'event.sos', autoClear: false }),
    ))!;
    await service.acknowledge(alert.id, 'us_zhang');
    await settle(io, everyone);

    for (const c of [staffA, familyWang, admin]) expect(c.got).toEqual(['alert:new', 'alert:update']);
    for (const c of [staffB, familyLiu]) expect(c.got).toEqual([]);
    const [opened, acked] = staffA.payloads as AlertChangePayload[];
    expect(opened!.alert).toMatchObject({ id: alert.id, communityId: 'cm_a', state: 'open' });
    expect(opened!.audit).toMatchObject({ action: 'opened', actor: 'system' });
    expect(acked!.alert).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'us_zhang' });
  });

  it('sends escalation reminders to the room each step names: the console first, the family page later', async () => {
    const { io, url } = await startServer();
    const staffA = await client(url, [communityRoom('cm_a')]);
    const familyWang = await client(url, [residentRoom('rs_wang')]);
    const staffB = await client(url, [communityRoom('cm_b')]);
    const service = await AlertService.open({
      dataDir: tempDir(),
      clock: settableClock(),
      directory,
      channels: [new SocketIoChannel(io)],
    });
    cleanups.push(() => service.close());

    const { alert } = (await service.apply(raise({ residentId: 'rs_wang' })))!;
    await service.advanceTo(T0);
    await settle(io, [staffA, familyWang, staffB]);
    expect(staffA.got).toEqual(['alert:notify']);
    expect(familyWang.got).toEqual([]);
    expect(staffA.payloads[0] as AlertNotifyPayload).toMatchObject({
      alert: { id: alert.id },
      resident: { name: '王秀兰' },
      step: 0,
      round: 0,
      recipient: { kind: 'console', id: 'cm_a' },
    });

    await service.advanceTo(T0 + 2 * 60_000);
    await settle(io, [staffA, familyWang, staffB]);
    expect(familyWang.got).toEqual(['alert:notify']);
    expect(familyWang.payloads[0]).toMatchObject({
      step: 1,
      recipient: { kind: 'contact', id: 'ct_daughter' },
    });
    expect(staffA.got).toEqual(['alert:notify']);
    expect(staffB.got).toEqual([]);
    expect((await service.deliveries(alert.id)).map((d) => [d.recipient, d.address, d.ok])).toEqual([
      ['console:cm_a', 'community:cm_a', true],
      ['contact:ct_daughter', 'resident:rs_wang', true],
    ]);
  });

  it('reads the addresses of outbox rows written before the dashboard owned its rooms', async () => {
    const { io, url } = await startServer();
    const staffA = await client(url, [communityRoom('cm_a')]);
    const familyWang = await client(url, [residentRoom('rs_wang')]);
    const channel = new SocketIoChannel(io, { now: () => T0 });
    const service = await AlertService.open({ dataDir: tempDir(), clock: settableClock(), directory });
    cleanups.push(() => service.close());
    const { alert } = (await service.apply(raise({ residentId: 'rs_wang' })))!;
    const notification = (kind: 'console' | 'contact', id: string, address: string) => ({
      alert,
      resident: { name: '王秀兰', home: '' },
      step: 0,
      round: 0,
      at: T0,
      recipient: { kind, id, name: id, channel: 'socketio' as const, address, language: 'zh-CN' as const },
    });

    // The strings older versions stored, as a restart reads them back from the outbox.
    await channel.send(notification('console', 'cm_a', 'community:cm_a'));
    await channel.send(notification('contact', 'ct_daughter', 'resident:rs_wang'));
    const stray = await channel.send(notification('contact', 'ct_x', 'wangli@example.cn'));
    await settle(io, [staffA, familyWang]);

    expect(staffA.got).toEqual(['alert:notify']);
    expect(familyWang.got).toEqual(['alert:notify']);
    expect(stray.attempts).toEqual([
      { at: T0, ok: false, error: 'not an in-app address: wangli@example.cn' },
    ]);
  });
});
