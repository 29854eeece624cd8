// The MQTT gateway: an Aedes broker whose hooks authenticate every device, keep each to its own topics,
// validate every payload against firmware-protocol and hand accepted readings to ingest.
//
// Order matters for "nothing acknowledged is lost": in Aedes 1.x the QoS 1 PUBACK is written right after
// `authorizePublish` calls back and before the publish pipeline runs, so acceptance (and the durable
// hand-off to the ReadingSink) happens inside `authorizePublish`.
import { Aedes } from 'aedes';
import type {
  AuthenticateError,
  Client,
  ConnectPacket,
  Connection,
  PublishPacket,
  Subscription,
} from 'aedes';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import {
  decodeUplink,
  isUplink,
  parseTopic,
  topicFor,
  type DecodeFailure,
  type ProtocolError,
} from '../firmware-protocol/index.ts';
import { CredentialCache } from './credential-cache.ts';
import { FailureLimiter } from './failure-limiter.ts';
import type { GatewayMetrics } from './metrics.ts';
import { answerUnacceptableProtocol, brokenPublishRule, SUPPORTED_PROTOCOL_LEVEL } from './mqtt-rules.ts';
import type { DeviceDirectory, GatewayDevice, ReadingSink } from './ports.ts';
import { RefusalLedger } from './refusals.ts';
import { SilentConnections } from './silent-connections.ts';
import { watchWire } from './wire-checks.ts';
import { verifySecret } from '../firmware-protocol/credentials.ts';
import { NO_REPORTER, type WriteReporter } from '../ops/write-health.ts';

export interface GatewayLimits {
  /** Largest MQTT frame accepted on the wire; a larger one closes the connection. */
  maxFrameBytes: number;
  /** Keepalive a device must ask for, in seconds (Mosquitto's max_keepalive answers 2 outside it too). */
  minKeepaliveS: number;
  maxKeepaliveS: number;
  maxConnectionsPerAddress: number;
  /** How long a new connection may take to send CONNECT before it is closed. */
  connectTimeoutMs: number;
  /** Connections one address may hold that have not sent CONNECT; the oldest is closed past it. */
  maxSilentPerAddress: number;
  maxAuthFailuresPerAddress: number;
  maxAuthFailuresPerDevice: number;
  authFailureWindowMs: number;
  refusalLogIntervalMs: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxFrameBytes: 64 * 1024,
  minKeepaliveS: 1,
  maxKeepaliveS: 1200,
  maxConnectionsPerAddress: 500,
  // A device sends CONNECT right after its connection (or TLS handshake) completes; 3 s covers a slow
  // cellular round trip and frees a squatted slot three times sooner than the 10 s used before.
  connectTimeoutMs: 3_000,
  maxSilentPerAddress: 50,
  maxAuthFailuresPerAddress: 10,
  maxAuthFailuresPerDevice: 5,
  authFailureWindowMs: 60_000,
  refusalLogIntervalMs: 60_000,
};

export interface GatewayOptions {
  directory: DeviceDirectory;
  sink: ReadingSink;
  logger: Logger;
  metrics: GatewayMetrics;
  limits?: Partial<GatewayLimits>;
  now?: () => number;
  /** Told of failed presence writes (full disk): they are dropped and counted, never thrown. */
  presenceWrites?: WriteReporter;
}

/** Refused messages are re-routed here so that Aedes still PUBACKs them but delivers them to nobody:
 * `$`-topics match no wildcard subscription and devices may not subscribe to them. */
const REFUSED_TOPIC = '$anju/refused';

const CONNACK = {
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_CREDENTIALS: 4,
  NOT_AUTHORIZED: 5,
} as const;

function connectError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** What preConnect keeps of a CONNECT for authenticate, whose hook sees only the credentials. */
interface ConnectFacts {
  keepalive: number;
  willTopic: string | undefined;
}

// How long a silent connection is safe from the per-address bound. Measured: 20 devices connecting at
// once to a paused process were never more than one silent at a time on resuming, as each CONNECT is read
// right after its accept; the second is a margin for a busy event loop, never reached by a device.
const SILENT_GRACE_MS = 1_000;

// The message of the error Aedes 1.x raises when CONNECT does not arrive within connectTimeout.
const AEDES_CONNECT_TIMEOUT = 'connect did not arrive in time';

// Verified against for unknown devices so that a wrong id costs as long as a wrong secret.
const DUMMY_HASH = 'scrypt$2048$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export class Gateway {
  readonly broker: Aedes;
  readonly refusals: RefusalLedger;
  readonly limits: GatewayLimits;
  private readonly devices = new WeakMap<Client, GatewayDevice>();
  private readonly connects = new WeakMap<Client, ConnectFacts>();
  /** Topics that were not UTF-8 on the wire, per connection, as mqtt-packet decodes them. */
  private readonly malformedTopics = new WeakMap<Connection, Set<string>>();
  private readonly silent: SilentConnections;
  private readonly addresses = new WeakMap<Connection, string>();
  private readonly connectionsByAddress = new Map<string, number>();
  private readonly credentials = new CredentialCache();
  private readonly acceptedCounters = new Map<string, Counter.Internal>();
  private readonly failuresByAddress: FailureLimiter;
  private readonly failuresByDevice: FailureLimiter;
  private readonly now: () => number;

  private constructor(
    private readonly opts: GatewayOptions,
    broker: Aedes,
  ) {
    this.broker = broker;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.silent = new SilentConnections(this.limits.maxSilentPerAddress, SILENT_GRACE_MS, this.now);
    this.refusals = new RefusalLedger(opts.logger, this.limits.refusalLogIntervalMs, this.now);
    this.failuresByAddress = new FailureLimiter(
      this.limits.maxAuthFailuresPerAddress,
      this.limits.authFailureWindowMs,
      this.now,
    );
    this.failuresByDevice = new FailureLimiter(
      this.limits.maxAuthFailuresPerDevice,
      this.limits.authFailureWindowMs,
      this.now,
    );
    broker.preConnect = (client, packet, done) => done(null, this.preConnect(client, packet));
    broker.authenticate = (client, username, password, done) => {
      this.authenticate(client, username, password).then(
        () => done(null, true),
        (err: AuthenticateError) => done(err, false),
      );
    };
    broker.authorizePublish = (client, packet, done) => this.authorizePublish(client, packet, done);
    broker.authorizeSubscribe = (client, sub, done) => done(null, this.authorizeSubscribe(client, sub));
    broker.on('clientReady', (client) => this.onReady(client));
    broker.on('clientDisconnect', (client) => this.onDisconnect(client));
    broker.on('clientError', (client, err) =>
      opts.logger.debug({ clientId: client?.id, err }, 'client error'),
    );
    broker.on('connectionError', (client, err) => {
      // Aedes reports its CONNECT timeout only as this error; it is a refused connection all the same.
      if (err.message === AEDES_CONNECT_TIMEOUT)
        opts.metrics.connectRefused.inc({ reason: 'connect_timeout' });
      opts.logger.debug({ clientId: client?.id, err }, 'connection error');
    });
  }

  static async create(opts: GatewayOptions): Promise<Gateway> {
    const connectTimeout = opts.limits?.connectTimeoutMs ?? DEFAULT_LIMITS.connectTimeoutMs;
    // Heartbeats on $SYS are for broker clusters; Anju's own health lives on /healthz and /metrics.
    const broker = await Aedes.createBroker({ heartbeatInterval: 60_000, connectTimeout });
    return new Gateway(opts, broker);
  }

  /**
   * Serves one MQTT connection on any transport. Returns false (and closes it) when the address has too
   * many connections already and none of them is silent (see silent-connections.ts).
   */
  handle(stream: Connection, address: string): boolean {
    if (!this.admit(stream, address)) return false;
    this.broker.handle(stream);
    watchWire(stream, {
      maxFrameBytes: this.limits.maxFrameBytes,
      onTooLarge: (declared) => {
        this.opts.metrics.connectRefused.inc({ reason: 'frame_too_large' });
        this.opts.logger.warn(
          { address, declared, limit: this.limits.maxFrameBytes },
          'connection closed: frame too large',
        );
        stream.destroy();
      },
      onUnparsableProtocolLevel: (level) => this.refuseProtocolLevel(stream, address, level),
      onMalformedTopic: (decoded) => {
        const topics = this.malformedTopics.get(stream) ?? new Set<string>();
        topics.add(decoded);
        this.malformedTopics.set(stream, topics);
      },
    });
    return true;
  }

  /**
   * Counts a new connection against its address, or refuses it (false, closed) when the address has too
   * many and none of them is silent. The rest of Anju's rules run in the broker's hooks once it speaks.
   */
  admit(stream: Connection, address: string): boolean {
    const open = this.connectionsByAddress.get(address) ?? 0;
    for (const stale of this.silent.pastBound(address))
      this.closeSilent(stale, address, 'silent_per_address');
    const displaced =
      open >= this.limits.maxConnectionsPerAddress ? this.silent.takeOldest(address) : undefined;
    if (displaced) this.closeSilent(displaced, address, 'silent_displaced');
    else if (open >= this.limits.maxConnectionsPerAddress) {
      this.opts.metrics.connectRefused.inc({ reason: 'connections_per_address' });
      this.opts.logger.warn({ address, open }, 'connection refused: too many connections from this address');
      stream.destroy();
      return false;
    }
    this.connectionsByAddress.set(address, open + 1);
    stream.once('close', () => {
      const left = (this.connectionsByAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.connectionsByAddress.delete(address);
      else this.connectionsByAddress.set(address, left);
    });
    this.addresses.set(stream, address);
    this.silent.add(stream, address);
    stream.once('close', () => this.silent.forget(stream));
    return true;
  }

  /** Closes a connection that never sent CONNECT to make room (see silent-connections.ts). */
  private closeSilent(stream: Connection, address: string, reason: string): void {
    this.opts.metrics.connectRefused.inc({ reason });
    // Debug: a squatter causes one of these per socket it opens, and must not flood the log.
    this.opts.logger.debug({ address, reason }, 'connection closed: silent too long for a crowded address');
    stream.destroy();
  }

  /**
   * Disconnects devices revoked since they connected (a revocation made by `anju device revoke` in
   * another process reaches the gateway only through the registry). Returns how many were cut off.
   */
  async disconnectRevoked(): Promise<number> {
    const revoked = await this.opts.directory.revokedIds();
    // From the revoked devices to their connections (a client id is its device id), not the other way:
    // looking up each of 10,000 connected devices every few seconds is work and garbage for nothing.
    let cut = 0;
    const clients = this.clients();
    for (const id of revoked) {
      const client = clients[id];
      if (!client || !this.devices.has(client)) continue;
      this.opts.logger.info({ deviceId: id }, 'disconnected: device revoked');
      client.close();
      cut += 1;
    }
    return cut;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }

  /**
   * The CONNECT checks that must come before authentication: [MQTT-3.1.2-2] the protocol level. Returns
   * false when the connection is refused (and answered) here.
   */
  private preConnect(client: Client, packet: ConnectPacket): boolean {
    this.silent.forget(client.conn);
    const address = this.addresses.get(client.conn) ?? 'unknown';
    if (packet.protocolVersion !== SUPPORTED_PROTOCOL_LEVEL) {
      this.refuseProtocolLevel(client.conn, address, packet.protocolVersion ?? 0);
      return false;
    }
    this.connects.set(client, { keepalive: packet.keepalive ?? 0, willTopic: packet.will?.topic });
    return true;
  }

  /** [MQTT-3.1.2-2]: CONNACK 1, then close. */
  private refuseProtocolLevel(stream: Connection, address: string, level: number): void {
    this.opts.metrics.connectRefused.inc({ reason: 'protocol_level' });
    this.opts.logger.info(
      { address, protocolLevel: level, rule: '[MQTT-3.1.2-2]' },
      'connection refused: unacceptable protocol level',
    );
    answerUnacceptableProtocol(stream);
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined) {
    const address = this.addresses.get(client.conn) ?? 'unknown';
    const deviceId = username ?? '';
    const refuse = (returnCode: number, reason: string) => {
      this.opts.metrics.connectRefused.inc({ reason });
      // Attempts already over the failure budget are only counted: an attacker must not flood the log.
      const level = reason === 'too_many_failures' ? 'debug' : 'info';
      this.opts.logger[level]({ address, deviceId, clientId: client.id, reason }, 'connection refused');
      return connectError(returnCode, reason);
    };
    const fail = (returnCode: number, reason: string) => {
      this.failuresByAddress.recordFailure(address);
      if (deviceId) this.failuresByDevice.recordFailure(deviceId);
      return refuse(returnCode, reason);
    };

    if (
      this.failuresByAddress.isBlocked(address) ||
      (deviceId && this.failuresByDevice.isBlocked(deviceId))
    ) {
      throw refuse(CONNACK.SERVER_UNAVAILABLE, 'too_many_failures');
    }
    const connect = this.connects.get(client);
    const keepalive = connect?.keepalive ?? 0;
    if (keepalive < this.limits.minKeepaliveS || keepalive > this.limits.maxKeepaliveS) {
      throw refuse(CONNACK.IDENTIFIER_REJECTED, 'keepalive_out_of_range');
    }
    if (!deviceId || client.id !== deviceId) throw fail(CONNACK.IDENTIFIER_REJECTED, 'client_id_mismatch');

    let device: GatewayDevice | undefined;
    try {
      device = await this.opts.directory.findDevice(deviceId);
    } catch (err) {
      // The database is away (PostgreSQL restarting, a disk error): the device retries later.
      this.opts.logger.error({ err, deviceId }, 'device directory unavailable');
      throw refuse(CONNACK.SERVER_UNAVAILABLE, 'directory_unavailable');
    }
    const secret = password?.toString('utf8') ?? '';
    const secretOk =
      (device !== undefined && this.credentials.matches(device.id, device.secretHash, secret)) ||
      (await verifySecret(secret, device?.secretHash ?? DUMMY_HASH));
    if (!device || !secretOk) throw fail(CONNACK.BAD_CREDENTIALS, device ? 'bad_secret' : 'unknown_device');
    if (device.revoked) throw refuse(CONNACK.NOT_AUTHORIZED, 'revoked');
    // A will may only say this device went offline: checked here, not when it fires after the
    // connection is gone and nobody can be told.
    if (connect?.willTopic !== undefined && connect.willTopic !== topicFor(device.id, 'status')) {
      throw refuse(CONNACK.NOT_AUTHORIZED, 'will_topic');
    }
    this.credentials.remember(device.id, device.secretHash, secret);
    this.devices.set(client, device);
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const device = this.devices.get(client);
    const parsed = parseTopic(sub.topic);
    if (!device || !parsed || parsed.deviceId !== device.id || isUplink(parsed.channel)) {
      this.opts.logger.info({ deviceId: device?.id, topic: sub.topic }, 'subscription refused');
      return null; // SUBACK 0x80
    }
    return sub;
  }

  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (err?: Error | null) => void,
  ): void {
    if (client) {
      const rule = brokenPublishRule(packet, this.malformedTopics.get(client.conn));
      if (rule) return this.closeForViolation(client, packet, rule, done);
    }
    // A will left by a client of a broker that is gone: only presence is meaningful.
    const device = client ? this.devices.get(client) : undefined;
    if (!device) {
      packet.topic = REFUSED_TOPIC;
      return done(null);
    }
    const receivedAt = this.now();
    const parsed = parseTopic(packet.topic);
    if (!parsed || parsed.deviceId !== device.id || !isUplink(parsed.channel)) {
      return this.refuse(device, packet, done, {
        code: 'E_TOPIC',
        message: `a device may publish only to ${topicFor(device.id, 'telemetry').replace('/telemetry', '/{telemetry|event|heartbeat|status}')}`,
        seq: null,
        issues: [],
      });
    }
    const result = decodeUplink(device.kind, parsed.channel, packet.payload as Buffer, receivedAt);
    if (!result.ok) return this.refuse(device, packet, done, result.error);

    this.acceptedBy(parsed.channel).inc();
    this.opts.directory.markSeen(device.id, receivedAt);
    if (result.message.channel === 'status') {
      // Presence is the gateway's to keep; the retained status lets a subscriber see it too.
      this.presence(device.id, result.message.body.state === 'offline' ? 'offline' : 'online', receivedAt);
      return done(null);
    }
    packet.retain = false; // only presence is retained; a retained reading would replay stale data
    this.opts.sink
      .accept({
        deviceId: device.id,
        kind: device.kind,
        residentId: device.residentId,
        homeId: device.homeId,
        receivedAt,
        qos: packet.qos,
        message: result.message,
      })
      .then(
        () => done(null),
        (err: Error) => {
          // Not durable, so no PUBACK: closing the connection makes the device resend.
          this.opts.logger.error({ deviceId: device.id, err }, 'reading not accepted by ingest');
          done(err);
        },
      );
  }

  /** Breaking a rule of the protocol closes the connection: nothing is acknowledged, stored or routed. */
  private closeForViolation(
    client: Client,
    packet: PublishPacket,
    rule: string,
    done: (err?: Error | null) => void,
  ): void {
    this.opts.metrics.protocolViolations.inc({ rule });
    this.opts.logger.warn(
      {
        address: this.addresses.get(client.conn),
        deviceId: this.devices.get(client)?.id,
        rule,
        topic: packet.topic,
        messageId: packet.messageId,
      },
      'connection closed: protocol violation',
    );
    done(new Error(`protocol violation ${rule}`)); // Aedes closes the connection on an error
  }

  /** Acknowledges and drops a refused message, so the device does not resend it, and tells it why. */
  private refuse(
    device: GatewayDevice,
    packet: PublishPacket,
    done: (err?: Error | null) => void,
    failure: DecodeFailure,
  ): void {
    const topic = packet.topic;
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
    this.opts.metrics.refused.inc({ reason: failure.code });
    this.refusals.record(device.id, failure.code, { topic, message: failure.message });
    const answer: ProtocolError = { ts: this.now(), topic, ...failure };
    this.broker.publish(
      {
        cmd: 'publish',
        topic: topicFor(device.id, 'error'),
        payload: JSON.stringify(answer),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
    done(null);
  }

  // Labelled children resolved once: looking labels up costs more than the increment on the hot path.
  private acceptedBy(channel: string): Counter.Internal {
    let counter = this.acceptedCounters.get(channel);
    if (!counter) {
      counter = this.opts.metrics.accepted.labels(channel);
      this.acceptedCounters.set(channel, counter);
    }
    return counter;
  }

  // Aedes keeps its connected clients by id but leaves the map out of its type declarations.
  private clients(): Record<string, Client> {
    return (this.broker as unknown as { clients: Record<string, Client> }).clients;
  }

  private onReady(client: Client): void {
    const device = this.devices.get(client);
    if (!device) return;
    this.opts.metrics.connected.inc();
    this.presence(device.id, 'online', this.now());
  }

  private onDisconnect(client: Client): void {
    const device = this.devices.get(client);
    if (!device) return;
    this.opts.metrics.connected.dec();
    // A device that reconnected took over its client id: the old session ending does not make it offline.
    const current = this.clients()[device.id];
    if (current && current !== client) return;
    this.presence(device.id, 'offline', this.now());
  }

  /**
   * Records presence in the directory, which buffers and reports its own write failures. A directory
   * that throws anyway is counted here: these run in Aedes' event handlers, where a throw would end
   * the process.
   */
  private presence(deviceId: string, state: 'online' | 'offline', at: number): void {
    const writes = this.opts.presenceWrites ?? NO_REPORTER;
    try {
      if (state === 'online') this.opts.directory.markOnline(deviceId, at);
      else this.opts.directory.markOffline(deviceId, at);
      writes.succeeded();
    } catch (err) {
      writes.failed(err);
      writes.dropped();
      this.opts.logger.debug({ deviceId, state, err }, 'presence not recorded');
    }
  }
}
