// Drives a Gateway's rules without sockets, as Aedes' own tests drive its broker: a CONNECT goes through
// the preConnect and authenticate hooks, a PUBLISH through authorizePublish, a SUBSCRIBE through
// authorizeSubscribe, exactly as Aedes calls them. For who may connect and what a device may publish or
// subscribe to; what needs the wire (PUBACK order, framing, wills, delivery) is tested over connections.
import type { AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import { PassThrough } from 'node:stream';
import { topicFor, type ProtocolError } from '../firmware-protocol/index.ts';
import type { Gateway } from './gateway.ts';

export interface DrivenConnect {
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; 30 unless a test means another. */
  keepalive?: number;
  willTopic?: string;
  /** The peer address the per-address limits count; a fresh one for each connection unless given. */
  address?: string;
}

export interface DrivenClient {
  /** The CONNACK return code the gateway decided (0: accepted). */
  returnCode: number;
  client: Client;
  /** The connection ends (what a device's disconnect does to the per-address count). */
  end(): void;
}

export interface PublishDecision {
  /** An error closes the connection without a PUBACK. */
  error: Error | null;
  /** Where Aedes routes the message: its own topic when accepted, a `$`-topic nobody sees when refused. */
  routedTo: string;
}

let addresses = 0;

export function driveGateway(gateway: Gateway) {
  const hooks = gateway.broker;

  async function connect(opts: DrivenConnect): Promise<DrivenClient> {
    addresses += 1;
    const conn = new PassThrough();
    gateway.admit(conn, opts.address ?? `driven-${addresses}`);
    const client = { id: opts.clientId, conn } as unknown as Client;
    const end = () => conn.destroy();
    const packet = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: opts.clientId,
      keepalive: opts.keepalive ?? 30,
      ...(opts.willTopic === undefined
        ? {}
        : { will: { topic: opts.willTopic, payload: Buffer.alloc(0), qos: 1, retain: true } }),
    } as ConnectPacket;
    const admitted = await new Promise<boolean>((resolve) =>
      hooks.preConnect(client, packet, (err, ok) => resolve(!err && ok)),
    );
    if (!admitted) return { returnCode: 1, client, end };
    const password = opts.password === undefined ? undefined : Buffer.from(opts.password);
    const returnCode = await new Promise<number>((resolve) =>
      hooks.authenticate(client, opts.username, password, (err, ok) =>
        resolve(err ? (err as AuthenticateError).returnCode : ok ? 0 : 5),
      ),
    );
    return { returnCode, client, end };
  }

  /** Connects a registered device with its own credentials; throws unless it is accepted. */
  async function connectDevice(device: { id: string; secret: string }): Promise<DrivenClient> {
    const driven = await connect({ clientId: device.id, username: device.id, password: device.secret });
    if (driven.returnCode !== 0) throw new Error(`${device.id} refused with ${driven.returnCode}`);
    return driven;
  }

  function publish(client: Client, topic: string, payload: string | Buffer, qos: 0 | 1 = 1) {
    const packet = {
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos,
      retain: false,
      dup: false,
      ...(qos === 1 ? { messageId: 1 } : {}),
    } as PublishPacket;
    return new Promise<PublishDecision>((resolve) =>
      hooks.authorizePublish(client, packet, (err) =>
        resolve({ error: err ?? null, routedTo: packet.topic }),
      ),
    );
  }

  /** The granted subscription, or null for SUBACK 0x80. */
  function subscribe(client: Client, topic: string): Promise<Subscription | null> {
    return new Promise((resolve) =>
      hooks.authorizeSubscribe(client, { topic, qos: 1 }, (err, sub) => resolve(err ? null : (sub ?? null))),
    );
  }

  /** What the gateway tells a device on its error topic, collected as it arrives. */
  async function errorsOf(deviceId: string): Promise<ProtocolError[]> {
    const errors: ProtocolError[] = [];
    await new Promise<void>((resolve) =>
      hooks.subscribe(
        topicFor(deviceId, 'error'),
        (packet, done) => {
          errors.push(JSON.parse(packet.payload.toString()) as ProtocolError);
          done();
        },
        resolve,
      ),
    );
    return errors;
  }

  return { connect, connectDevice, publish, subscribe, errorsOf };
}
