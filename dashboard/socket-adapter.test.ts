// Two Socket.IO servers (two nodes) on one real PostgreSQL: an event emitted to a room on one reaches a
// console connected to the other.
import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, expect, it } from 'vitest';
import { startPostgresAroundTests, type PostgresServer } from '../test/postgres.ts';
import { usePostgresAdapter, type SocketAdapter } from './socket-adapter.ts';

let pg: PostgresServer;
const stops: (() => Promise<void>)[] = [];
startPostgresAroundTests((started) => (pg = started));
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function node(url: string): Promise<{ io: Server; port: number; adapter: SocketAdapter }> {
  const http: HttpServer = createServer();
  const io = new Server(http);
  const adapter: SocketAdapter = await usePostgresAdapter(io, url);
  io.on('connection', (socket) => void socket.join('community:cm_1'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  stops.push(async () => {
    io.close();
    await adapter.close();
  });
  return { io, port: (http.address() as { port: number }).port, adapter };
}

/** Two nodes sharing a fresh database. */
async function twoNodes() {
  const url = await pg.createDatabase();
  return [await node(url), await node(url)] as const;
}

/** A console's socket connected to the node on `port`, closed after the tests. */
async function consoleOn(port: number): Promise<Socket> {
  const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
  stops.push(async () => void socket.close());
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return socket;
}

it('delivers an event emitted on one node to a console connected to another', async () => {
  const [a, b] = await twoNodes();
  const consoleOnB = await consoleOn(b.port);
  await expect
    .poll(async () => (await a.io.in('community:cm_1').fetchSockets()).length, { timeout: 10_000 })
    .toBe(1);
  const received = new Promise<unknown>((r) => consoleOnB.once('alert:new', r));
  a.io.to('community:cm_1').emit('alert:new', { id: 'al_1', ruleId: 'event.sos' });
  expect(await received).toEqual({ id: 'al_1', ruleId: 'event.sos' });
});

it('survives a PostgreSQL restart: events cross nodes again, and closing does not hang', async () => {
  const [a, b] = await twoNodes();
  const consoleOnB = await consoleOn(b.port);
  // The adapters' listening connections are cut; before, the unhandled 'error' ended the process.
  await pg.restart();
  const received: unknown[] = [];
  consoleOnB.on('alert:new', (payload) => received.push(payload));
  // The adapter listens again within a few seconds; until then an event may be missed (alerts:sync).
  await expect
    .poll(
      () => {
        a.io.to('community:cm_1').emit('alert:new', { id: 'al_2' });
        return received.length;
      },
      { timeout: 15_000, interval: 500 },
    )
    .toBeGreaterThan(0);
  expect(received[0]).toEqual({ id: 'al_2' });
  const closed = Promise.all([a, b].map(async (n) => (n.io.close(), await n.adapter.close())));
  await expect(
    Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(r, 5000, 'hung'))]),
  ).resolves.toBe('closed');
}, 30_000);
