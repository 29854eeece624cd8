// Three `anju serve --cluster` nodes, three nats-servers, one PostgreSQL and one InfluxDB, all real
// processes on loopback. One node is killed with SIGKILL under QoS 1 load: every reading a device had a
// PUBACK for is in the log once and in the readings store; the devices carry on through the other nodes;
// an SOS pressed 5 s after the kill reaches a console on another node; an inactivity timer armed on the
// dead node's partition fires on time on its new owner; no alert is duplicated or lost.
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AlertChangePayload } from '../alerting/channels/socketio.ts';
import { Browser } from '../dashboard/test-support.ts';
import { JetStreamReadingLog } from '../ingest/log/jetstream.ts';
import {
  CLUSTER_ADMIN_PASSWORD,
  LoadDevice,
  PARTITIONS,
  addResidentDevice,
  publishSomewhere,
  startTestCluster,
  storedTimes,
  type TestCluster,
  type TestDevice,
} from './cluster.ts';
import { waitFor } from './harness.ts';

// 25 s without a sign of life is an alarm here (12 h in the shipped rules); no sleep window to speak of.
const INACTIVE_S = 25;
const RULES = `
absence:
  routine:
    fallbackH: ${INACTIVE_S / 3600}
    sleep: { from: '03:00', to: '03:01' }
    wakeGraceMin: 0
    learned: { enabled: false }
`;

let cluster: TestCluster;
let sosCandidates: TestDevice[];
let loadDevices: TestDevice[];
let motion: TestDevice;
const sockets: Socket[] = [];

beforeAll(async () => {
  cluster = await startTestCluster({ nodes: 3, rules: RULES });
  motion = await addResidentDevice(cluster.registry, 'env_monitor', 'ENV');
  sosCandidates = [];
  for (let i = 0; i < 24; i++)
    sosCandidates.push(await addResidentDevice(cluster.registry, 'wearable', 'SOS'));
  loadDevices = [];
  for (let i = 0; i < 9; i++) loadDevices.push(await addResidentDevice(cluster.registry, 'wearable', 'LOAD'));
  // One first (it creates the admin), then the others together.
  await cluster.start(0);
  await Promise.all([cluster.start(1), cluster.start(2)]);
  // Each live node takes its fair share of the partitions.
  await waitFor(
    async () => {
      const owners = await cluster.owners();
      const counts = new Map<string, number>();
      for (const owner of owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
      return owners.size === PARTITIONS && counts.size === 3 && [...counts.values()].every((n) => n >= 4);
    },
    30_000,
    250,
  );
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await cluster?.stop();
}, 60_000);

async function consoleOn(
  httpPort: number,
): Promise<{ socket: Socket; alerts: { at: number; payload: AlertChangePayload }[] }> {
  const tab = new Browser(`http://127.0.0.1:${httpPort}`);
  expect((await tab.signIn('admin', CLUSTER_ADMIN_PASSWORD)).status).toBe(200);
  const socket = connectSocket(`http://127.0.0.1:${httpPort}`, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: { cookie: `anju_session=${tab.cookie}` },
  });
  sockets.push(socket);
  const alerts: { at: number; payload: AlertChangePayload }[] = [];
  socket.on('alert:new', (payload: AlertChangePayload) => alerts.push({ at: Date.now(), payload }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, alerts };
}

it('loses nothing acknowledged and no alert when a node is killed under QoS 1 load', async () => {
  const owners = await cluster.owners();
  const victimId = owners.get(motion.partition)!;
  const victim = cluster.nodes.findIndex((n) => n.id === victimId);
  const survivor = cluster.nodes.find((n) => n.id !== victimId)!;
  const onVictim = sosCandidates.filter((d) => owners.get(d.partition) === victimId);
  expect(onVictim.length).toBeGreaterThanOrEqual(2); // 24 homes over 16 partitions, 4 to 6 of them the victim's
  const [sosBefore, sosAfter] = onVictim as [TestDevice, TestDevice];

  const { alerts: seen } = await consoleOn(survivor.proc!.httpPort);
  const started = Date.now();
  const load = loadDevices.map((d, i) => new LoadDevice(d, cluster, i, 10));
  load.forEach((d) => d.start());

  // A sign of life, and an SOS, both judged on the partitions of the node about to die.
  const motionAt = Date.now();
  await publishSomewhere(cluster, motion, 'telemetry', {
    ts: motionAt,
    seq: 1,
    temperature: 21.5,
    motion: true,
  });
  await publishSomewhere(cluster, sosBefore, 'event', { ts: Date.now(), seq: 1, type: 'sos' });
  await waitFor(() => seen.find((a) => a.payload.alert.residentId === sosBefore.residentId), 10_000, 50);
  await new Promise((r) => setTimeout(r, 3000)); // the partition's snapshot now holds the armed timer

  const killedAt = Date.now();
  await cluster.nodes[victim]!.proc!.killHard();
  cluster.nodes[victim]!.proc = undefined;
  await new Promise((r) => setTimeout(r, 5000 - (Date.now() - killedAt)));

  const pressedAt = Date.now();
  await publishSomewhere(cluster, sosAfter, 'event', { ts: pressedAt, seq: 1, type: 'sos' });
  const sos = await waitFor(
    () => seen.find((a) => a.payload.alert.residentId === sosAfter.residentId),
    20_000,
    20,
  );
  expect(sos.payload.alert.ruleId).toBe('event.sos');

  // The absence timer was armed on the dead node; its new owner fires it on time.
  const inactive = await waitFor(
    () => seen.find((a) => a.payload.alert.residentId === motion.residentId),
    INACTIVE_S * 1000 + 15_000,
    50,
  );
  expect(inactive.payload.alert.ruleId).toBe('absence.routine');
  const lateMs = inactive.at - (motionAt + INACTIVE_S * 1000);
  expect(lateMs).toBeGreaterThan(-1000);
  expect(lateMs).toBeLessThan(3000);

  await Promise.all(load.map((d) => d.stop()));
  // Every device went on through another node after the kill.
  for (const d of load)
    expect(
      d.ackTimes.some((t) => t > killedAt + 1000),
      d.device.id,
    ).toBe(true);
  expect(load.reduce((n, d) => n + d.reconnects, 0)).toBeGreaterThan(0);

  // Every acknowledged reading is in the readings store (a point per reading time: stored once).
  for (const d of load) {
    const expected = [...d.acked.values()].sort((a, b) => a - b);
    const stored = await waitFor(
      async () => {
        const times = await storedTimes(cluster.store, d.device.id, started - 1000);
        const have = new Set(times);
        return expected.every((t) => have.has(t)) && times;
      },
      30_000,
      250,
    );
    expect(new Set(stored).size).toBe(stored.length);
  }
  // ... and in the log exactly once (a resend after the kill was de-duplicated by its message id).
  const log = await JetStreamReadingLog.connect({ servers: cluster.nats.urls, replicas: 3 });
  try {
    const ids = new Map<string, number>();
    for (let p = 0; p < PARTITIONS; p++) {
      for (const { reading } of await log.read(p, 1, 100_000, 2000)) {
        const seq = (reading.message.body as { seq: number }).seq;
        const key = `${reading.deviceId}:${seq}`;
        ids.set(key, (ids.get(key) ?? 0) + 1);
      }
    }
    for (const d of load)
      for (const seq of d.acked.keys())
        expect(ids.get(`${d.device.id}:${seq}`), `${d.device.id}:${seq}`).toBe(1);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
  } finally {
    await log.close();
  }

  // One alert per incident: the SOS before the kill was replayed by the new owner and stayed one alert.
  const rows = await cluster.dbs.alerts.all<{ resident_id: string; rule_id: string; n: number }>(
    'SELECT resident_id, rule_id, count(*)::int AS n FROM alerts GROUP BY resident_id, rule_id',
  );
  const count = (d: TestDevice, rule: string) =>
    rows.find((r) => r.resident_id === d.residentId && r.rule_id === rule)?.n ?? 0;
  expect(count(sosBefore, 'event.sos')).toBe(1);
  expect(count(sosAfter, 'event.sos')).toBe(1);
  expect(count(motion, 'absence.routine')).toBe(1);
  expect(rows.filter((r) => r.n > 1)).toEqual([]);
  console.info(
    `cluster failover: ${load.reduce((n, d) => n + d.acked.size, 0)} readings acknowledged, ` +
      `SOS 5 s after the kill on the console in ${sos.at - pressedAt} ms, inactivity alarm ${lateMs} ms after its deadline`,
  );
}, 150_000);
