// The replicated reading log against a real three-server NATS JetStream cluster: a reading is
// acknowledged only once a quorum has it, stored once however often it is resent, kept in order per home,
// and still accepted when one server of three dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcceptedReading } from '../../gateway/ports.ts';
import { startNatsCluster, type NatsCluster } from '../../test/nats.ts';
import { JetStreamReadingLog, messageIdOf } from './jetstream.ts';
import { partitionOf } from './partitions.ts';

const T0 = Date.UTC(2026, 11, 1, 8);

function reading(deviceId: string, homeId: string, seq: number, heartRate = 70): AcceptedReading {
  return {
    deviceId,
    kind: 'wearable',
    residentId: `rs_${homeId}`,
    homeId,
    receivedAt: T0 + seq * 1000,
    qos: 1,
    message: { channel: 'telemetry', body: { ts: T0 + seq * 1000, seq, heartRate, worn: true } },
  } as AcceptedReading;
}

/** Publishes until the log takes it, as a device resends: waits out a leader election after a kill. */
function acceptedSoon(log: JetStreamReadingLog, r: AcceptedReading): Promise<void> {
  return expect
    .poll(
      () =>
        log.accept(r).then(
          () => true,
          () => false,
        ),
      { timeout: 30_000, interval: 250 },
    )
    .toBe(true);
}

let cluster: NatsCluster;
beforeAll(async () => {
  cluster = await startNatsCluster(3);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('JetStream reading log', () => {
  it('stores a resent reading once and keeps each home in order in its partition', async () => {
    const log = await JetStreamReadingLog.connect({
      servers: cluster.urls,
      stream: 'ORDER',
      subjectPrefix: 'order',
      partitions: 4,
    });
    try {
      for (let seq = 1; seq <= 20; seq++) {
        await log.accept(reading('W-1', 'hm_a', seq));
        await log.accept(reading('W-2', 'hm_b', seq));
      }
      // A QoS 1 redelivery of every reading of one device: same device, seq and ts.
      for (let seq = 1; seq <= 20; seq++) await log.accept(reading('W-1', 'hm_a', seq));
      expect(await log.count()).toBe(40);

      const partition = partitionOf({ homeId: 'hm_a', deviceId: 'W-1' }, 4);
      const logged = (await log.read(partition, 1, 100)).filter((l) => l.reading.homeId === 'hm_a');
      expect(logged.map((l) => messageIdOf(l.reading))).toEqual(
        Array.from({ length: 20 }, (_, i) => messageIdOf(reading('W-1', 'hm_a', i + 1))),
      );
      expect(logged.every((l, i) => i === 0 || l.seq > logged[i - 1]!.seq)).toBe(true);
    } finally {
      await log.close();
    }
  });

  it('keeps following a partition, in order and once, when the server holding its reader dies and when its own server dies', async () => {
    const options = { servers: cluster.urls, stream: 'FOLLOW', subjectPrefix: 'follow', partitions: 1 };
    const writer = await JetStreamReadingLog.connect(options);
    const reader = await JetStreamReadingLog.connect(options);
    const seen: number[] = [];
    let caughtUp = false;
    const publish = (seq: number) => acceptedSoon(writer, reading('W-F', 'hm_f', seq));
    const follower = reader.follow(
      0,
      1,
      ({ reading: r }) => seen.push((r.message.body as { seq: number }).seq),
      () => (caughtUp = true),
    );
    const readsOn = async (upTo: number) => {
      const started = Date.now();
      await expect.poll(() => seen.length, { timeout: 20_000, interval: 50 }).toBe(upTo);
      return Date.now() - started;
    };
    try {
      for (let seq = 1; seq <= 5; seq++) await publish(seq);
      await readsOn(5);
      expect(caughtUp).toBe(true);

      // The server the reader's (single-replica) consumer lives on.
      const jsm = await reader.connection.jetstreamManager();
      const consumers = await jsm.consumers.list('FOLLOW').next();
      const host = Number(/^n(\d+)$/.exec(consumers[0]?.cluster?.leader ?? '')?.[1]) - 1;
      expect(host).toBeGreaterThanOrEqual(0);
      await cluster.kill(host);
      for (let seq = 6; seq <= 10; seq++) await publish(seq);
      const afterHostDied = await readsOn(10);
      await cluster.start(host);

      // The server the reader's connection goes through.
      const own = Number(/^n(\d+)$/.exec(reader.connection.info?.server_name ?? '')?.[1]) - 1;
      expect(own).toBeGreaterThanOrEqual(0);
      await cluster.kill(own);
      for (let seq = 11; seq <= 15; seq++) await publish(seq);
      const afterOwnDied = await readsOn(15);
      await cluster.start(own);

      expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      console.info(
        `follower read on ${afterHostDied} ms after its consumer's server died, ${afterOwnDied} ms after its own`,
      );
    } finally {
      await follower.stop();
      await reader.close();
      await writer.close();
    }
  }, 120_000);

  it('keeps accepting with one server of three dead, and refuses rather than pretends with two dead', async () => {
    const log = await JetStreamReadingLog.connect({
      servers: cluster.urls,
      stream: 'QUORUM',
      subjectPrefix: 'quorum',
      partitions: 2,
      publishTimeoutMs: 2_000,
    });
    try {
      await log.accept(reading('W-9', 'hm_q', 1));
      await cluster.kill(2);
      // If the dead server led the stream, the other two elect a new leader within seconds; a device's
      // resend (here: the poll) is taken then, and from then on every publish is.
      await acceptedSoon(log, reading('W-9', 'hm_q', 2));
      for (let seq = 3; seq <= 10; seq++) await log.accept(reading('W-9', 'hm_q', seq));
      await cluster.kill(1);
      // No quorum: the publish must fail, so the gateway would not send PUBACK and the device resends.
      await expect(log.accept(reading('W-9', 'hm_q', 11))).rejects.toThrow();
      await cluster.start(1);
      await cluster.start(2);
      // Once a quorum is back the resent reading is taken, and nothing acknowledged before was lost.
      await acceptedSoon(log, reading('W-9', 'hm_q', 11));
      const all = await log.read(partitionOf({ homeId: 'hm_q', deviceId: 'W-9' }, 2), 1, 100);
      expect(all.map((l) => (l.reading.message.body as { seq: number }).seq)).toEqual(
        Array.from({ length: 11 }, (_, i) => i + 1),
      );
    } finally {
      await log.close();
    }
  }, 90_000);
});
