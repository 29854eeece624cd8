// Client takeover across two brokers joined by a real NATS server: a device that reconnects to another
// node loses its old connection on the first node, as MQTT requires within one broker [MQTT-3.1.4-2].
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { connect, type NatsConnection } from 'nats';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { natsTakeoverBus } from './takeover-nats.ts';
import { startNatsCluster, type NatsCluster } from '../test/nats.ts';
import { closeTakenOverClients } from './takeover.ts';

interface Node {
  broker: Aedes;
  server: Server;
  port: number;
  nc: NatsConnection;
  stop: () => void;
}

let cluster: NatsCluster;
const nodes: Node[] = [];

async function startNode(name: string): Promise<Node> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const nc = await connect({ servers: cluster.urls });
  const stop = closeTakenOverClients(broker, name, natsTakeoverBus(nc));
  const node = { broker, server, port, nc, stop };
  nodes.push(node);
  return node;
}

beforeAll(async () => {
  cluster = await startNatsCluster(1);
}, 60_000);
afterAll(async () => {
  for (const node of nodes) {
    node.stop();
    await node.nc.close();
    await new Promise<void>((r) => node.broker.close(() => r()));
    await new Promise((r) => node.server.close(r));
  }
  await cluster?.stop();
});

function device(port: number, clientId: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0, clean: true });
}

it('closes the older connection on the other node when a device connects again elsewhere', async () => {
  const a = await startNode('node-a');
  const b = await startNode('node-b');
  const first = await device(a.port, 'W-0001');
  const closed = new Promise<void>((r) => first.once('close', () => r()));
  const second = await device(b.port, 'W-0001');
  await closed;
  expect(first.connected).toBe(false);
  expect(second.connected).toBe(true);
  // Another device on node A is untouched.
  const other = await device(a.port, 'W-0002');
  await new Promise((r) => setTimeout(r, 300));
  expect(other.connected).toBe(true);
  expect(second.connected).toBe(true);
  await Promise.all([second.endAsync(), other.endAsync()]);
});

it('keeps a device that came back to the first node since', async () => {
  const a = nodes[0]!;
  const b = nodes[1]!;
  const onB = await device(b.port, 'W-0003');
  const closed = new Promise<void>((r) => onB.once('close', () => r()));
  const backOnA = await device(a.port, 'W-0003');
  await closed;
  await new Promise((r) => setTimeout(r, 300));
  expect(backOnA.connected).toBe(true);
  await backOnA.endAsync();
});
