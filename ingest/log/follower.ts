// Follows one partition of the reading log for as long as its owner wants it, whatever happens to the
// NATS servers. A reader (a consumer of the stream) can die with the server holding it or stall when the
// client's own server dies; the client library recovers from that by itself, but was measured still
// silent 20 s after a kill. An alarm cannot wait on that, so the follower watches its reader and, at the
// first sign of trouble (a status saying so, a reconnect, a gap in the delivery sequence, a silence
// longer than a pull lasts), replaces it with a new one from the position after the last reading it
// delivered. Creating a reader needs the servers' metadata leader, whose election after a kill was
// measured at up to 15 s; until a new reader opens, the follower reads the partition straight from the
// stream, one message at a time, which needs only the stream's own leader (back within seconds).
// Readings reach the handler in log order, each once.
import { ConsumerEvents, type ConsumerMessages } from 'nats';

export interface Reader {
  messages: ConsumerMessages;
  /** Releases what the reader holds on the servers (best effort: they expire it anyway). */
  discard(): void;
}

export interface FollowSource {
  /** The partition's newest log position now (0 when empty); rejects when the log cannot say. */
  newest(): Promise<number>;
  /** A reader of the partition from `fromSeq` on, its delivery sequence starting at 1. */
  open(fromSeq: number): Promise<Reader>;
  /** The partition's first reading at or after `fromSeq`, read from the stream itself; undefined for none. */
  readAt(fromSeq: number): Promise<{ seq: number; data: string } | undefined>;
  /** How long one pull lasts: a healthy reader shows a sign of life at least this often. */
  pullMs: number;
  /**
   * Calls back whenever the connection came back through another server (the library pauses its own
   * checks while disconnected); returns a function that stops calling.
   */
  onReconnect(callback: () => void): () => void;
}

export interface FollowHandlers {
  onReading(seq: number, data: string): void;
  /** Once, when the follower has delivered everything that was in the partition when it began. */
  caughtUp(): void;
  /** A reader that failed or went quiet is being replaced (for the log). */
  onRestart?(reason: string, fromSeq: number): void;
}

export interface Follower {
  stop(): Promise<void>;
}

/** Statuses after which a reader will not deliver again by itself. */
const TROUBLE = new Set<string>([
  ConsumerEvents.HeartbeatsMissed,
  ConsumerEvents.ConsumerNotFound,
  ConsumerEvents.ConsumerDeleted,
  ConsumerEvents.StreamNotFound,
  ConsumerEvents.NoResponders,
]);
/** Waits between attempts to open a reader while the servers are electing or away. */
const RETRY_MS = [100, 250, 500, 1000, 2000];
/** Reading straight from the stream: how long to wait when it has nothing new, or failed. */
const DIRECT_IDLE_MS = 50;
const DIRECT_FAILED_MS = 250;
/** How long stop() waits for a reader the servers no longer answer for. */
const STOP_WAIT_MS = 2000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stops the reader on a trouble status, after a reconnect, or when it shows no sign of life (a message,
 * a new pull, an expired one) for longer than a pull lasts.
 */
function watch(source: FollowSource, messages: ConsumerMessages, restart: (reason: string) => void) {
  let lastSign = Date.now();
  const silence = setInterval(() => {
    if (Date.now() - lastSign > source.pullMs + 1000) restart('no sign of life from the reader');
  }, 250);
  const unsubscribe = source.onReconnect(() => restart('connection moved to another server'));
  void (async () => {
    for await (const status of await messages.status()) {
      lastSign = Date.now();
      if (TROUBLE.has(status.type)) restart(`reader reported ${status.type}`);
    }
  })().catch(() => {});
  return {
    sawMessage: () => (lastSign = Date.now()),
    end: () => {
      clearInterval(silence);
      unsubscribe();
    },
  };
}

export function followPartition(source: FollowSource, fromSeq: number, handlers: FollowHandlers): Follower {
  let next = Math.max(1, fromSeq);
  /** The newest position when following began; undefined until known, null once delivered. */
  let target: number | null | undefined;
  let stopped = false;
  let current: Reader | undefined;

  const reachedEnd = () => {
    target = null;
    handlers.caughtUp();
  };
  /** Hands on the partition's next reading; anything before it was delivered already. */
  const deliver = (seq: number, data: string) => {
    if (seq < next) return;
    next = seq + 1;
    handlers.onReading(seq, data);
    if (typeof target === 'number' && seq >= target) reachedEnd();
  };

  /** Reads one reader until it ends or is stopped; the reason it ended. */
  const readAll = async (reader: Reader): Promise<string> => {
    let reason = 'reader ended';
    const restart = (why: string) => {
      reason = why;
      reader.messages.stop();
    };
    const watcher = watch(source, reader.messages, restart);
    let delivery = 0;
    try {
      for await (const message of reader.messages) {
        watcher.sawMessage();
        if (message.info.deliverySequence !== ++delivery) {
          restart('a gap in the delivery sequence');
          break;
        }
        deliver(message.seq, message.string());
      }
    } finally {
      watcher.end();
    }
    return reason;
  };

  /** Reads straight from the stream until stopped (while no reader can be opened). */
  const readDirectly = () => {
    let reading = true;
    const done = (async () => {
      while (reading && !stopped) {
        try {
          const found = await source.readAt(next);
          if (!reading || stopped) break;
          if (found) deliver(found.seq, found.data);
          else await sleep(DIRECT_IDLE_MS);
        } catch {
          await sleep(DIRECT_FAILED_MS);
        }
      }
    })();
    return async () => {
      reading = false;
      await Promise.race([done, sleep(STOP_WAIT_MS)]);
    };
  };

  const run = async () => {
    let stopDirect: (() => Promise<void>) | undefined;
    for (let failures = 0; !stopped; failures++) {
      let reason: string;
      try {
        if (target === undefined) {
          const newest = await source.newest();
          target = newest;
          if (newest < next) reachedEnd();
        }
        current = await source.open(next);
        await stopDirect?.();
        stopDirect = undefined;
        if (stopped) break;
        const before = next;
        reason = await readAll(current);
        if (next > before) failures = 0;
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      } finally {
        current?.discard();
        current = undefined;
      }
      if (stopped) break;
      handlers.onRestart?.(reason, next);
      stopDirect ??= target === undefined ? undefined : readDirectly();
      await sleep(RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!);
    }
    await stopDirect?.();
  };
  const done = run();

  return {
    async stop() {
      stopped = true;
      current?.messages.stop();
      await Promise.race([done, sleep(STOP_WAIT_MS)]);
    },
  };
}
