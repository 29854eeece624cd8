// MQTT packets built byte by byte and a plain TCP socket to send them, for tests of what a conforming
// client library would never send (invalid UTF-8, packet id 0, other protocol levels, silent sockets).
import net from 'node:net';

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** A length-prefixed MQTT string; a Buffer is sent as it is, valid UTF-8 or not. */
function mqttString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function frame(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);
}

export interface RawConnect {
  protocolName?: 'MQTT' | 'MQIsdp';
  protocolLevel?: number;
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  will?: { topic: string; payload: string; qos: 0 | 1; retain: boolean };
}

export function connectPacket(c: RawConnect): Buffer {
  let flags = 0x02; // clean session
  if (c.username !== undefined) flags |= 0x80;
  if (c.password !== undefined) flags |= 0x40;
  if (c.will) flags |= 0x04 | (c.will.qos << 3) | (c.will.retain ? 0x20 : 0);
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(c.keepalive ?? 30);
  const level = c.protocolLevel ?? 4;
  const noProperties = level === 5 ? [Buffer.from([0])] : []; // MQTT 5 adds a property list
  const parts = [
    mqttString(c.protocolName ?? 'MQTT'),
    Buffer.from([level, flags]),
    keepalive,
    ...noProperties,
    mqttString(c.clientId),
  ];
  if (c.will) parts.push(...noProperties, mqttString(c.will.topic), mqttString(c.will.payload));
  if (c.username !== undefined) parts.push(mqttString(c.username));
  if (c.password !== undefined) parts.push(mqttString(c.password));
  return frame(0x10, Buffer.concat(parts));
}

export function publishPacket(p: {
  topic: string | Buffer;
  payload: string;
  qos: 0 | 1 | 2;
  messageId?: number;
}): Buffer {
  const parts = [mqttString(p.topic)];
  if (p.qos > 0) {
    const id = Buffer.alloc(2);
    id.writeUInt16BE(p.messageId ?? 1);
    parts.push(id);
  }
  parts.push(Buffer.from(p.payload, 'utf8'));
  return frame(0x30 | (p.qos << 1), Buffer.concat(parts));
}

export const connack = (returnCode: number) => Buffer.from([0x20, 0x02, 0x00, returnCode]);
export const puback = (messageId: number) => Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);

/** A TCP connection that records every byte the server sends and when the server closed it. */
export class RawConnection {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  readonly opened: Promise<void>;
  /** Resolves with the time (performance.now()) the connection closed. */
  readonly closed: Promise<number>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => (this.received = Buffer.concat([this.received, chunk])));
    this.socket.on('error', () => undefined); // a reset by the server is one of the outcomes tested
    // Also on close: a socket destroyed while connecting never connects.
    this.opened = new Promise((resolve) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('close', () => resolve());
    });
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve(performance.now())));
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves once the server has sent at least `n` bytes, or closed. */
  async receivedAtLeast(n: number, timeoutMs = 5000): Promise<Buffer> {
    const started = Date.now();
    while (this.received.length < n && !this.socket.destroyed && Date.now() - started < timeoutMs)
      await new Promise((r) => setTimeout(r, 5));
    return this.received;
  }

  close(): void {
    this.socket.destroy();
  }
}
