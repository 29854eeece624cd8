// The replicated reading log of a cluster: every accepted reading is published to a NATS JetStream stream
// replicated on three servers, one subject per resident partition, before the gateway acknowledges it
// (QoS 1 PUBACK). The message id is the device, seq and ts that identify a reading in the firmware
// protocol, so a redelivery (or a device resending after a reconnect) is stored once within the
// stream's duplicate window. Rule workers read each partition in order.
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  DiscardPolicy,
  Events,
  nanos,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type NatsConnection,
} from 'nats';
import type { AcceptedReading, ReadingSink } from '../../gateway/ports.ts';
import { followPartition, type Follower } from './follower.ts';
import { partitionOf } from './partitions.ts';

export interface ReadingLogOptions {
  /** Client URLs of the NATS servers (any of them will do; the client fails over). */
  servers: string[];
  stream?: string;
  /** Subjects are `<prefix>.<partition>`; two streams need two prefixes. */
  subjectPrefix?: string;
  /** Resident partitions: the unit a rule worker owns. Fixed for the life of a stream. */
  partitions?: number;
  replicas?: number;
  /** How long a message id is remembered for de-duplication. */
  duplicateWindowMs?: number;
  /** How long readings stay in the log (the store writer and rule workers must keep up within it). */
  maxAgeMs?: number;
  /** How long a publish waits for the stream's acknowledgement before the reading is refused. */
  publishTimeoutMs?: number;
  /** Shown in the server's connection list. */
  name?: string;
}

export interface LoggedReading {
  /** The stream sequence: the log position. */
  seq: number;
  reading: AcceptedReading;
}

export interface SharedMessage extends LoggedReading {
  ack(): void;
  /** Hands it back to be delivered again after `ms` (to this node or another). */
  retryIn(ms: number): void;
}

export interface SharedConsumer {
  /** Up to `max` readings, waiting up to `waitMs` for the first. */
  next(max: number, waitMs: number): Promise<SharedMessage[]>;
}

export const DEFAULTS = {
  stream: 'ANJU_READINGS',
  subjectPrefix: 'anju.readings',
  partitions: 16,
  replicas: 3,
  duplicateWindowMs: 10 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  publishTimeoutMs: 5_000,
} as const;

/** How long one pull of a partition's follower lasts; the library's heartbeats come every half of it. */
const FOLLOW_EXPIRES_MS = 2_000;
/** A follower's consumer left behind (its node died) is removed by the servers after this long. */
const FOLLOW_INACTIVE_MS = 30_000;

/** device:seq:ts, the identity of a reading in the firmware protocol. */
export function messageIdOf(reading: AcceptedReading): string {
  const { seq, ts } = reading.message.body as { seq: number; ts: number };
  return `${reading.deviceId}:${seq}:${ts}`;
}

export class JetStreamReadingLog implements ReadingSink {
  private readonly reconnectListeners = new Set<() => void>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: Required<Omit<ReadingLogOptions, 'name'>>,
  ) {
    void (async () => {
      for await (const status of nc.status())
        if (status.type === Events.Reconnect) for (const listener of this.reconnectListeners) listener();
    })().catch(() => {});
  }

  /** Connects and makes sure the stream exists with this configuration. */
  static async connect(options: ReadingLogOptions): Promise<JetStreamReadingLog> {
    const settings = { ...DEFAULTS, ...options };
    const nc = await connect({
      servers: settings.servers,
      name: options.name ?? 'anju',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    try {
      const jsm = await nc.jetstreamManager();
      const log = new JetStreamReadingLog(nc, nc.jetstream(), jsm, settings);
      await log.ensureStream();
      return log;
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** The NATS connection, for the node's other NATS traffic (client takeover announcements). */
  get connection(): NatsConnection {
    return this.nc;
  }

  subjectOf(partition: number): string {
    return `${this.options.subjectPrefix}.${partition}`;
  }

  get partitions(): number {
    return this.options.partitions;
  }

  private async ensureStream(): Promise<void> {
    const { stream, replicas, duplicateWindowMs, maxAgeMs } = this.options;
    const config = {
      name: stream,
      subjects: [`${this.options.subjectPrefix}.*`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
      duplicate_window: nanos(duplicateWindowMs),
      max_age: nanos(maxAgeMs),
    };
    try {
      await this.jsm.streams.info(stream);
      await this.jsm.streams.update(stream, config);
    } catch (err) {
      if (!/stream not found/i.test(String(err))) throw err;
      await this.jsm.streams.add(config);
    }
  }

  /**
   * Resolves once the stream has stored the reading on a quorum of its replicas (or already had it):
   * only then may the gateway acknowledge it. Rejects when no quorum answers in time.
   */
  async accept(reading: AcceptedReading): Promise<void> {
    const partition = partitionOf(reading, this.options.partitions);
    await this.js.publish(this.subjectOf(partition), JSON.stringify(reading), {
      msgID: messageIdOf(reading),
      expect: { streamName: this.options.stream },
      timeout: this.options.publishTimeoutMs,
    });
  }

  /**
   * Up to `max` readings of one partition from log position `fromSeq` on, in order, as far as the
   * partition reached when asked (waiting no longer for more).
   */
  async read(partition: number, fromSeq: number, max: number, waitMs = 1_000): Promise<LoggedReading[]> {
    const last = await this.lastSeq(partition);
    const out: LoggedReading[] = [];
    if (last < fromSeq) return out;
    const consumer = await this.js.consumers.get(this.options.stream, {
      filterSubjects: this.subjectOf(partition),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
    });
    while (out.length < max) {
      const batch = await consumer.fetch({
        max_messages: Math.min(1000, max - out.length),
        expires: Math.max(1_000, waitMs),
      });
      let got = 0;
      for await (const message of batch) {
        got += 1;
        out.push({ seq: message.seq, reading: JSON.parse(message.string()) as AcceptedReading });
        if (message.seq >= last || out.length >= max) return out;
      }
      if (got === 0) return out;
    }
    return out;
  }

  /**
   * The log position of a partition's newest reading; 0 for none. Strict: a failure to ask rejects
   * instead of reading as an empty partition.
   */
  private lastSeq(partition: number, { strict = false } = {}): Promise<number> {
    return this.jsm.streams
      .getMessage(this.options.stream, { last_by_subj: this.subjectOf(partition) })
      .then((m) => m.seq)
      .catch((err: unknown) => {
        if (strict && !/no message found/i.test(String(err))) throw err;
        return 0;
      });
  }

  /**
   * Delivers one partition's readings in order from log position `fromSeq` on, then new ones as they
   * come, until stopped, through the death of any one server (see follower.ts). `caughtUp` is called once
   * the reader has reached the end of what was in the log when it started (at once for an empty
   * partition). Returns at once: the reader opens in the background.
   */
  follow(
    partition: number,
    fromSeq: number,
    onReading: (logged: LoggedReading) => void,
    caughtUp: () => void,
    onRestart?: (reason: string, fromSeq: number) => void,
  ): Follower {
    const subject = this.subjectOf(partition);
    return followPartition(
      {
        newest: () => this.lastSeq(partition, { strict: true }),
        open: async (from) => {
          // A plain consumer of our own rather than the library's ordered one, whose recreation loop
          // waits a pull's time between attempts: the follower replaces it itself (see follower.ts).
          const { name } = await this.jsm.consumers.add(this.options.stream, {
            filter_subject: subject,
            deliver_policy: DeliverPolicy.StartSequence,
            opt_start_seq: from,
            ack_policy: AckPolicy.None,
            mem_storage: true,
            num_replicas: 1,
            inactive_threshold: nanos(FOLLOW_INACTIVE_MS),
          });
          const consumer = await this.js.consumers.get(this.options.stream, name);
          const messages = await consumer.consume({ max_messages: 500, expires: FOLLOW_EXPIRES_MS });
          return {
            messages,
            discard: () => {
              messages.stop();
              void this.jsm.consumers.delete(this.options.stream, name).catch(() => {});
            },
          };
        },
        readAt: (from) =>
          this.jsm.streams
            // STREAM.MSG.GET takes next_by_subj since server 2.9; the client's type lists it only for
            // direct gets, which would need allow_direct on the stream.
            .getMessage(this.options.stream, { seq: from, next_by_subj: subject } as MsgRequest)
            .then(
              (m) => ({ seq: m.seq, data: m.string() }),
              (err: unknown) => {
                if (/no message found/i.test(String(err))) return undefined;
                throw err;
              },
            ),
        pullMs: FOLLOW_EXPIRES_MS,
        onReconnect: (callback) => {
          this.reconnectListeners.add(callback);
          return () => this.reconnectListeners.delete(callback);
        },
      },
      fromSeq,
      {
        onReading: (seq, data) => onReading({ seq, reading: JSON.parse(data) as AcceptedReading }),
        caughtUp,
        onRestart,
      },
    );
  }

  /**
   * A durable consumer shared by every node under one name: each reading goes to one of them, and comes
   * back (after `ackWaitMs`) if that node dies before acknowledging it. For the telemetry store writer.
   */
  async shared(name: string, ackWaitMs: number): Promise<SharedConsumer> {
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 20_000,
    };
    try {
      await this.jsm.consumers.info(this.options.stream, name);
    } catch {
      await this.jsm.consumers.add(this.options.stream, config).catch(async (err: unknown) => {
        // Another node created it at the same moment.
        if (!/already exists|in use/i.test(String(err))) throw err;
      });
    }
    const consumer = await this.js.consumers.get(this.options.stream, name);
    return {
      async next(max, waitMs) {
        const batch = await consumer.fetch({ max_messages: max, expires: Math.max(1_000, waitMs) });
        const out: SharedMessage[] = [];
        for await (const message of batch) {
          out.push({
            seq: message.seq,
            reading: JSON.parse(message.string()) as AcceptedReading,
            ack: () => message.ack(),
            retryIn: (ms) => message.nak(ms),
          });
        }
        return out;
      },
    };
  }

  /** Messages in the stream (after de-duplication). */
  async count(): Promise<number> {
    return (await this.jsm.streams.info(this.options.stream)).state.messages;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}
