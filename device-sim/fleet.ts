// The simulated devices on the wire: one MQTT 3.1.1 connection per device, behaving as the vendor guide
// asks (docs/firmware-protocol.md): a retained `offline` will, `online` after CONNACK, a subscription to
// its own error topic (which is how refusals are counted), QoS 1 for everything, unacknowledged messages
// kept and sent again after a reconnect, and reconnects with exponential backoff and jitter.
import type { MqttClient } from 'mqtt';
import { ProtocolError, topicFor, type UplinkChannel } from '../firmware-protocol/index.ts';
import { createClient, sourceAddress } from './connect.ts';
import { payloadText, type SimOutput } from './output.ts';
import { rngFor, type Rng } from './random.ts';
import { CONNACK_REASONS, SimStats } from './stats.ts';

export interface FleetOptions {
  url: string;
  /** Device id -> secret. */
  secrets: ReadonlyMap<string, string>;
  stats: SimStats;
  /** Simulated time, for the `ts` of presence messages. */
  simNow: () => number;
  /** Seeds the reconnect jitter (which never changes what the devices measure). */
  seed: number;
  keepaliveS?: number;
  /** Messages one device keeps in flight. */
  window?: number;
  /** Connection attempts under way at once: a connect storm is for benchmarks, not for a simulation. */
  connectConcurrency?: number;
  backoff?: { initialMs: number; maxMs: number };
}

interface Outgoing {
  n: number;
  topic: string;
  channel: UplinkChannel;
  payload: string;
  dup: boolean;
  expect?: string;
  sent: boolean;
}

interface Link {
  id: string;
  index: number;
  secret: string;
  wrongSecret: boolean;
  powered: boolean;
  client?: MqttClient;
  connected: boolean;
  everConnected: boolean;
  lastRefusal?: number;
  refusals: number;
  gaveUp: boolean;
  /** Reconnect attempts since the last success; -1 asks for an immediate one. */
  attempt: number;
  timer?: NodeJS.Timeout;
  queue: Outgoing[];
  inflight: number;
  counter: number;
}

/** CONNACK codes that retrying cannot fix: a configuration error (2) or a revoked device (5). */
const GIVE_UP = new Set([1, 2, 5]);

export class Fleet {
  private readonly links = new Map<string, Link>();
  private readonly window: number;
  private readonly keepaliveS: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly jitter: Rng;
  private connecting = 0;
  private readonly waitingToConnect: Link[] = [];
  private closing = false;
  private readonly waiters = new Set<() => void>();
  private lastErrorAt = 0;

  constructor(private readonly opts: FleetOptions) {
    this.window = opts.window ?? 8;
    this.keepaliveS = opts.keepaliveS ?? 60;
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.jitter = rngFor(opts.seed, 'reconnect-jitter');
  }

  /**
   * Takes what a device does. A message is queued at once. A change of power or secret first lets the
   * device send what it has queued, so that in an accelerated run the change lands between the same
   * messages as in simulated time; the returned promise says when it has taken effect.
   */
  dispatch(o: SimOutput): Promise<void> | undefined {
    const link = this.link(o.deviceId);
    if (o.type === 'publish') {
      link.queue.push({
        n: link.counter++,
        topic: o.topic,
        channel: o.channel,
        payload: payloadText(o.payload),
        dup: o.dup,
        expect: o.expect,
        sent: false,
      });
      this.pump(link);
      return undefined;
    }
    if (o.type === 'power' && o.on) {
      link.powered = true;
      this.requestConnect(link);
      return undefined;
    }
    return this.change(link, o);
  }

  private async change(link: Link, o: Extract<SimOutput, { type: 'power' | 'credentials' }>): Promise<void> {
    if (o.type === 'credentials' && !o.wrong) {
      // Given the right secret again, the device tries at once instead of waiting out its backoff.
      link.wrongSecret = false;
      if (link.timer) {
        clearTimeout(link.timer);
        link.timer = undefined;
        this.requestConnect(link);
      }
      return;
    }
    // What the device queued before the change goes out first; still connecting counts as able to send.
    const flushed = () =>
      link.queue.length + link.inflight === 0 || (!link.client && !link.timer) || link.wrongSecret;
    await this.until(flushed, 5000);
    if (o.type === 'power') {
      link.powered = false;
      this.cut(link);
      return;
    }
    link.wrongSecret = true;
    if (!link.client) return;
    // A device given a wrong secret (a bad firmware update, say) drops its session and tries again at once.
    const refusals = link.refusals;
    link.attempt = -1;
    link.client.end(!link.connected);
    await this.until(() => link.refusals > refusals, 5000);
  }

  private async until(done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline && !this.closing) await this.nextProgress(50);
  }

  /** Messages queued or in flight on devices that are on and still trying. */
  backlog(): number {
    let n = 0;
    for (const link of this.links.values())
      if (link.powered && !link.gaveUp) n += link.queue.length + link.inflight;
    return n;
  }

  /** Messages not yet acknowledged, of every device. */
  unsent(): number {
    let n = 0;
    for (const link of this.links.values()) n += link.queue.length + link.inflight;
    return n;
  }

  /** Resolves once the connected devices have fewer than `limit` messages waiting. */
  async ready(limit = 2000): Promise<void> {
    while (this.connectedBacklog() >= limit && !this.closing) await this.nextProgress(100);
  }

  /**
   * Waits until every device that is on has its messages acknowledged (reconnecting where needed) and the
   * error answers have stopped arriving, at most `timeoutMs`. What is left is counted as `unsent`.
   */
  async drain(timeoutMs = 10_000, quietMs = 300): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const busy = this.backlog() > 0 || this.connecting > 0;
      if (!busy && Date.now() - this.lastErrorAt >= quietMs) return;
      await this.nextProgress(50);
    }
  }

  /** Says goodbye properly: `offline` (retained) and a DISCONNECT from every connected device. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closing = true;
    this.waitingToConnect.length = 0;
    const ends: Promise<unknown>[] = [];
    for (const link of this.links.values()) {
      clearTimeout(link.timer);
      const client = link.client;
      if (!client) continue;
      link.client = undefined;
      if (!link.connected) {
        client.end(true);
        continue;
      }
      link.connected = false;
      const offline = JSON.stringify({ state: 'offline', ts: this.opts.simNow() });
      ends.push(
        client
          .publishAsync(topicFor(link.id, 'status'), offline, { qos: 1, retain: true })
          .catch(() => undefined)
          .then(() => client.endAsync())
          .catch(() => undefined),
      );
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(ends), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const link of this.links.values()) link.client?.end(true);
  }

  private connectedBacklog(): number {
    let n = 0;
    for (const link of this.links.values()) if (link.connected) n += link.queue.length + link.inflight;
    return n;
  }

  /** Resolves at the next acknowledgement, connection change or error answer, or after `timeoutMs`. */
  private nextProgress(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  private progressed(): void {
    for (const done of [...this.waiters]) done();
  }

  private link(id: string): Link {
    let link = this.links.get(id);
    if (!link) {
      const secret = this.opts.secrets.get(id);
      if (secret === undefined) throw new Error(`no secret for device ${id}`);
      link = {
        id,
        index: this.links.size,
        secret,
        wrongSecret: false,
        powered: false,
        connected: false,
        everConnected: false,
        refusals: 0,
        gaveUp: false,
        attempt: 0,
        queue: [],
        inflight: 0,
        counter: 0,
      };
      this.links.set(id, link);
    }
    return link;
  }

  private requestConnect(link: Link): void {
    if (this.closing || link.client || link.timer || !link.powered) return;
    if (this.connecting >= (this.opts.connectConcurrency ?? 20)) {
      if (!this.waitingToConnect.includes(link)) this.waitingToConnect.push(link);
      return;
    }
    this.connect(link);
  }

  private connectNextWaiting(): void {
    while (this.waitingToConnect.length && this.connecting < (this.opts.connectConcurrency ?? 20)) {
      const next = this.waitingToConnect.shift()!;
      if (!next.client && next.powered && !this.closing) this.connect(next);
    }
  }

  private connect(link: Link): void {
    this.connecting += 1;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.connecting -= 1;
      this.connectNextWaiting();
      this.progressed();
    };
    const errorTopic = topicFor(link.id, 'error');
    const usedWrongSecret = link.wrongSecret;
    const client = createClient(
      this.opts.url,
      {
        clientId: link.id,
        username: link.id,
        password: usedWrongSecret ? `${link.secret}-wrong` : link.secret,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        keepalive: this.keepaliveS,
        connectTimeout: 10_000,
        will: {
          topic: topicFor(link.id, 'status'),
          payload: Buffer.from('{"state":"offline"}'),
          qos: 1,
          retain: true,
        },
      },
      sourceAddress(this.opts.url, link.index),
    );
    link.client = client;
    client.on('connect', () => {
      settle();
      if (client.disconnecting || link.client !== client) return;
      if (link.wrongSecret !== usedWrongSecret) {
        // The secret changed while this connection was being made: start again with the new one.
        link.attempt = -1;
        client.end();
        return;
      }
      link.connected = true;
      link.attempt = 0;
      link.lastRefusal = undefined;
      this.opts.stats.connects += 1;
      if (link.everConnected) this.opts.stats.reconnects += 1;
      link.everConnected = true;
      client.subscribe(errorTopic, { qos: 1 });
      const online = JSON.stringify({ state: 'online', ts: Math.min(this.opts.simNow(), Date.now()) });
      link.queue.unshift({
        n: -1,
        topic: topicFor(link.id, 'status'),
        channel: 'status',
        payload: online,
        dup: false,
        sent: false,
      });
      this.pump(link);
    });
    client.on('message', (topic, payload) => {
      if (topic !== errorTopic) return;
      let parsed: ReturnType<typeof ProtocolError.safeParse> | undefined;
      try {
        parsed = ProtocolError.safeParse(JSON.parse(payload.toString()));
      } catch {
        parsed = undefined;
      }
      SimStats.add(this.opts.stats.refused, parsed?.success ? parsed.data.code : 'unreadable');
      this.lastErrorAt = Date.now();
      this.progressed();
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') {
        link.lastRefusal = code;
        link.refusals += 1;
        SimStats.add(this.opts.stats.connectRefused, CONNACK_REASONS[code] ?? `code_${code}`);
      } else {
        this.opts.stats.connectErrors += 1; // no CONNACK at all: refused socket, timeout, reset
      }
    });
    client.on('close', () => {
      settle();
      this.closed(link, client);
    });
  }

  private closed(link: Link, client: MqttClient): void {
    if (link.client !== client) return;
    link.client = undefined;
    link.connected = false;
    client.end(true); // fails what is in flight, so pump's callbacks put it back in the queue
    if (!link.powered || this.closing) return;
    if (link.lastRefusal !== undefined && GIVE_UP.has(link.lastRefusal)) {
      link.gaveUp = true;
      return;
    }
    // Exponential backoff with jitter; after "server unavailable" (too many failures) wait a minute at least.
    const exp =
      link.attempt < 0 ? 0 : Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** link.attempt);
    const floor = link.lastRefusal === 3 ? 60_000 : 0;
    const delay = Math.max(floor, exp * (0.5 + 0.5 * this.jitter.next()));
    link.attempt += 1;
    link.timer = setTimeout(() => {
      link.timer = undefined;
      this.requestConnect(link);
    }, delay);
  }

  /** Power lost: the connection drops without a DISCONNECT, so the broker publishes the will. */
  private cut(link: Link): void {
    clearTimeout(link.timer);
    link.timer = undefined;
    const client = link.client;
    if (!client) return;
    link.client = undefined;
    link.connected = false;
    client.stream.destroy();
    client.end(true);
  }

  private pump(link: Link): void {
    const client = link.client;
    while (
      link.connected &&
      client &&
      !client.disconnecting &&
      link.queue.length > 0 &&
      link.inflight < this.window
    ) {
      const msg = link.queue.shift()!;
      if (msg.sent) this.opts.stats.resent += 1;
      else this.opts.stats.countSent(msg);
      msg.sent = true;
      link.inflight += 1;
      const retain = msg.channel === 'status';
      client.publish(msg.topic, msg.payload, { qos: 1, dup: msg.dup, retain }, (err) => {
        link.inflight -= 1;
        if (err) {
          // Not acknowledged: keep it, in order, and send the same bytes again as a redelivery.
          msg.dup = true;
          const at = link.queue.findIndex((q) => q.n > msg.n);
          link.queue.splice(at === -1 ? link.queue.length : at, 0, msg);
        } else {
          this.opts.stats.acked += 1;
        }
        this.pump(link);
        this.progressed();
      });
    }
  }
}
