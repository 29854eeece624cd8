// Three `anju serve --cluster` nodes, three nats-servers, one PostgreSQL and one InfluxDB, all real
// processes on loopback, and devices sending QoS 1 readings through whichever node answers. Each test
// breaks one part under that load (a node killed with SIGKILL, a nats-server killed, PostgreSQL
// restarted, every node restarted in turn) and checks what users rely on: every reading a device had a
// PUBACK for is in the log once and in the readings store, alarms reach a console on another node, and no
// alert is duplicated or lost. The tests share one cluster (starting it is most of their time); each
// starts by bringing every node up; the nats-server test comes last, as JetStream's consumers take a while
// to settle after a server's death (see docs/cluster.md, limits).
import { io as connectSocket, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, beforeEach, expect, it, onTestFailed } from 'vitest';
import type { AlertChangePayload } from '../dashboard/live/events.ts';
import type { SyncAck } from '../dashboard/socket.ts';
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
// A gas sensor silent for three of these is offline (300 s in the shipped rules). Only gas sensors: the
// environment monitor whose motion arms the absence timer must stay a source of activity.
const HEARTBEAT_S = 3;
const RULES = `
absence:
  routine:
    fallbackH: ${INACTIVE_S / 3600}
    sleep: { from: '03:00', to: '03:01' }
    wakeGraceMin: 0
    learned: { enabled: false }
device:
  offline:
    heartbeatS: { gas_sensor: ${HEARTBEAT_S} }
    missed: 3
`;

let cluster: TestCluster;
let log: JetStreamReadingLog;
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
  log = await JetStreamReadingLog.connect({ servers: cluster.nats.urls, replicas: 3 });
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await log?.close();
  await cluster?.stop();
}, 60_000);

// A failure shows what the nodes logged (warn and above): their processes are gone by the report.
beforeEach(() => {
  onTestFailed(() => {
    for (const node of cluster.nodes)
      console.error(
        `--- ${node.id}\n${(node.proc?.stdout ?? [])
          .slice(-8)
          .map((l) => l.slice(0, 400))
          .join('\n')}`,
      );
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leasesSettled(): Promise<Map<number, string>> {
  return waitFor(
    async () => {
      const owners = await cluster.owners();
      const up = new Set(cluster.nodes.filter((n) => n.proc).map((n) => n.id));
      const held = new Set(owners.values());
      return (
        owners.size === PARTITIONS && [...held].every((id) => up.has(id)) && held.size === up.size && owners
      );
    },
    30_000,
    250,
  );
}

async function allNodesUp(): Promise<void> {
  for (let i = 0; i < cluster.nodes.length; i++) if (!cluster.nodes[i]!.proc) await cluster.start(i);
  await leasesSettled();
}

/** The load devices sending, and where the log stood when they began. */
async function startLoad(): Promise<{ devices: LoadDevice[]; fromSeq: number; since: number }> {
  // No message is ever removed from the stream here, so its count is its last sequence.
  const fromSeq = (await log.count()) + 1;
  const devices = loadDevices.map((d, i) => new LoadDevice(d, cluster, i, 10));
  devices.forEach((d) => d.start());
  return { devices, fromSeq, since: Date.now() - 1000 };
}

/**
 * Stops the load and checks that every acknowledged reading is in the readings store and in the log
 * exactly once (a resend after a failure is de-duplicated by its message id, device:seq:ts).
 */
async function expectAcknowledgedStoredOnce(load: Awaited<ReturnType<typeof startLoad>>): Promise<number> {
  await Promise.all(load.devices.map((d) => d.stop()));
  for (const d of load.devices) {
    const expected = [...d.acked.values()];
    const stored = await waitFor(
      async () => {
        const times = await storedTimes(cluster.store, d.device.id, load.since);
        const have = new Set(times);
        return expected.every((t) => have.has(t)) && times;
      },
      30_000,
      250,
    );
    expect(new Set(stored).size).toBe(stored.length);
  }
  const ids = new Map<string, number>();
  for (let p = 0; p < PARTITIONS; p++) {
    for (const { reading } of await log.read(p, load.fromSeq, 100_000, 2000)) {
      const { seq, ts } = reading.message.body as { seq: number; ts: number };
      const key = `${reading.deviceId}:${seq}:${ts}`;
      ids.set(key, (ids.get(key) ?? 0) + 1);
    }
  }
  for (const d of load.devices)
    for (const [seq, ts] of d.acked)
      expect(ids.get(`${d.device.id}:${seq}:${ts}`), `${d.device.id}:${seq}`).toBe(1);
  expect([...ids.entries()].filter(([, n]) => n > 1)).toEqual([]);
  return load.devices.reduce((n, d) => n + d.acked.size, 0);
}

async function alertCounts(): Promise<{ resident_id: string; rule_id: string; n: number }[]> {
  return cluster.dbs.alerts.all<{ resident_id: string; rule_id: string; n: number }>(
    'SELECT resident_id, rule_id, count(*)::int AS n FROM alerts GROUP BY resident_id, rule_id',
  );
}

/** The longest time no device had a reading acknowledged, within [from, to]. */
function longestAckGap(devices: LoadDevice[], from: number, to: number): number {
  const times = devices
    .flatMap((d) => d.ackTimes)
    .filter((t) => t >= from && t <= to)
    .sort((a, b) => a - b);
  let gap = 0;
  let last = from;
  for (const t of [...times, to]) {
    gap = Math.max(gap, t - last);
    last = t;
  }
  return gap;
}

/** SOS candidates not yet used by a test. */
const freshSos = () => sosCandidates.splice(-1, 1)[0]!;

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
  sosCandidates = sosCandidates.filter((d) => d !== sosBefore && d !== sosAfter);

  const { alerts: seen } = await consoleOn(survivor.proc!.httpPort);
  const load = await startLoad();

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
    () =>
      seen.find(
        (a) =>
          a.payload.alert.residentId === motion.residentId && a.payload.alert.ruleId === 'absence.routine',
      ),
    INACTIVE_S * 1000 + 15_000,
    50,
  );
  expect(inactive.payload.alert.ruleId).toBe('absence.routine');
  const lateMs = inactive.at - (motionAt + INACTIVE_S * 1000);
  expect(lateMs).toBeGreaterThan(-1000);
  expect(lateMs).toBeLessThan(3000);

  // Every device went on through another node after the kill.
  for (const d of load.devices)
    expect(
      d.ackTimes.some((t) => t > killedAt + 1000),
      d.device.id,
    ).toBe(true);
  expect(load.devices.reduce((n, d) => n + d.reconnects, 0)).toBeGreaterThan(0);
  const acknowledged = await expectAcknowledgedStoredOnce(load);

  // One alert per incident: the SOS before the kill was replayed by the new owner and stayed one alert.
  const rows = await alertCounts();
  const count = (d: TestDevice, rule: string) =>
    rows.find((r) => r.resident_id === d.residentId && r.rule_id === rule)?.n ?? 0;
  expect(count(sosBefore, 'event.sos')).toBe(1);
  expect(count(sosAfter, 'event.sos')).toBe(1);
  expect(count(motion, 'absence.routine')).toBe(1);
  expect(rows.filter((r) => r.n > 1)).toEqual([]);
  console.info(
    `cluster failover: ${acknowledged} readings acknowledged, ` +
      `SOS 5 s after the kill on the console in ${sos.at - pressedAt} ms, inactivity alarm ${lateMs} ms after its deadline`,
  );
}, 150_000);

it('acknowledges readings while PostgreSQL restarts, and alerts resume when it is back', async () => {
  await allNodesUp();
  const node = cluster.nodes[0]!;
  const { alerts: seen } = await consoleOn(node.proc!.httpPort);
  const load = await startLoad();
  await sleep(1500);
  const downAt = Date.now();
  await cluster.pg.restart();
  const upAt = Date.now();
  // The log holds readings while the database is away: acknowledgements went on meanwhile.
  const during = load.devices.flatMap((d) => d.ackTimes).filter((t) => t > downAt && t < upAt).length;
  expect(during).toBeGreaterThan(0);
  const sos = freshSos();
  const pressedAt = Date.now();
  await publishSomewhere(cluster, sos, 'event', { ts: pressedAt, seq: 1, type: 'sos' });
  // Stored, and on a console that catches up after a reconnect (alerts:sync), whichever node judged it.
  await waitFor(
    async () =>
      (await alertCounts()).find((r) => r.resident_id === sos.residentId && r.rule_id === 'event.sos'),
    20_000,
    100,
  );
  const { socket } = await consoleOn(cluster.nodes[1]!.proc!.httpPort);
  const sync = (await socket
    .timeout(5000)
    .emitWithAck('alerts:sync', { since: pressedAt - 60_000 })) as SyncAck;
  expect(
    sync.ok && sync.alerts.some((a) => a.residentId === sos.residentId && a.ruleId === 'event.sos'),
  ).toBe(true);
  const live = seen.find((a) => a.payload.alert.residentId === sos.residentId);
  const acknowledged = await expectAcknowledgedStoredOnce(load);
  expect((await alertCounts()).filter((r) => r.n > 1)).toEqual([]);
  console.info(
    `PostgreSQL restart: ${upAt - downAt} ms away, ${during} readings acknowledged meanwhile, ${acknowledged} in all; ` +
      `SOS after it ${live ? `live on the console in ${live.at - pressedAt} ms` : 'not pushed live (caught up by alerts:sync)'}`,
  );
}, 90_000);

it('judges a device registered while the cluster runs: its first reading, an SOS, is an alert', async () => {
  await allNodesUp();
  const device = await addResidentDevice(cluster.registry, 'wearable', 'NEW');
  const pressedAt = Date.now();
  await publishSomewhere(cluster, device, 'event', { ts: pressedAt, seq: 1, type: 'sos' });
  const row = await waitFor(
    async () => (await alertCounts()).find((r) => r.resident_id === device.residentId),
    15_000,
    50,
  );
  expect(row).toMatchObject({ rule_id: 'event.sos', n: 1 });
}, 60_000);

it('marks a device offline from its silence, not from its connection ending', async () => {
  await allNodesUp();
  const device = await addResidentDevice(cluster.registry, 'gas_sensor', 'QUIET');
  const lastHeard = Date.now();
  await publishSomewhere(cluster, device, 'telemetry', {
    ts: lastHeard,
    seq: 1,
    gas: 'methane',
    concentration: 0,
    unit: '%LEL',
    sensorAgeDays: 400,
    valve: 'open',
  });
  // Disconnected at once, yet online: a node's connections ending (or its death) says nothing.
  await waitFor(async () => (await cluster.registry.getDevice(device.id))?.online === true, 10_000, 100);
  // Silent for three heartbeats: the owner of its partition marks it offline.
  await waitFor(async () => (await cluster.registry.getDevice(device.id))?.online === false, 20_000, 100);
  expect(Date.now() - lastHeard).toBeGreaterThan(3 * HEARTBEAT_S * 1000);
}, 60_000);

it('loses no acknowledged reading and duplicates no alert through a rolling restart of every node', async () => {
  await allNodesUp();
  const load = await startLoad();
  const sos = freshSos();
  await publishSomewhere(cluster, sos, 'event', { ts: Date.now(), seq: 1, type: 'sos' });
  await waitFor(async () => (await alertCounts()).find((r) => r.resident_id === sos.residentId), 15_000, 100);
  for (let i = 0; i < cluster.nodes.length; i++) {
    await cluster.nodes[i]!.proc!.stop();
    cluster.nodes[i]!.proc = undefined;
    await cluster.start(i);
    await leasesSettled();
  }
  // The same resident presses again: the open alert is updated, not doubled.
  await publishSomewhere(cluster, sos, 'event', { ts: Date.now(), seq: 2, type: 'sos' });
  const later = freshSos();
  await publishSomewhere(cluster, later, 'event', { ts: Date.now(), seq: 1, type: 'sos' });
  await waitFor(
    async () => (await alertCounts()).find((r) => r.resident_id === later.residentId),
    15_000,
    100,
  );
  const acknowledged = await expectAcknowledgedStoredOnce(load);
  const rows = await alertCounts();
  expect(rows.find((r) => r.resident_id === sos.residentId && r.rule_id === 'event.sos')?.n).toBe(1);
  expect(rows.filter((r) => r.n > 1)).toEqual([]);
  console.info(`rolling restart: ${acknowledged} readings acknowledged`);
}, 120_000);

it('keeps acknowledging when a nats-server is killed under load, and loses nothing acknowledged', async () => {
  await allNodesUp();
  const load = await startLoad();
  await sleep(2000);
  // The stream's leader: its replicas must elect another before publishing resumes.
  const jsm = await log.connection.jetstreamManager();
  const leaderName = (await jsm.streams.info('ANJU_READINGS')).cluster?.leader;
  const leader = Math.max(0, Number(/^n(\d+)$/.exec(leaderName ?? '')?.[1] ?? 1) - 1);
  const killedAt = Date.now();
  await cluster.nats.kill(leader);
  // An SOS while the server is down: the rule workers whose log readers were on it read on elsewhere.
  const sos = freshSos();
  const pressedAt = Date.now();
  await publishSomewhere(cluster, sos, 'event', { ts: pressedAt, seq: 1, type: 'sos' });
  // Measured 6.7-11.4 s, most of it the stream's leader election holding every publish (the longest
  // pause in acknowledgements, printed below); the bound is for a loaded CI machine.
  await waitFor(async () => (await alertCounts()).find((r) => r.resident_id === sos.residentId), 30_000, 50);
  const sosMs = Date.now() - pressedAt;
  await sleep(Math.max(0, killedAt + 10_000 - Date.now()));
  const back = Date.now();
  // Publishing resumed on the two servers left, before the third came back.
  for (const d of load.devices)
    expect(
      d.ackTimes.some((t) => t > killedAt + 500 && t < back),
      d.device.id,
    ).toBe(true);
  const gap = longestAckGap(load.devices, killedAt, back);
  await cluster.nats.start(leader);
  await sleep(2000);
  const acknowledged = await expectAcknowledgedStoredOnce(load);
  expect((await alertCounts()).filter((r) => r.n > 1)).toEqual([]);
  console.info(
    `nats-server ${leaderName} (the stream's leader) killed: ${acknowledged} readings acknowledged, ` +
      `longest pause in acknowledgements ${gap} ms; an SOS pressed after the kill stored as an alert in ${sosMs} ms`,
  );
}, 90_000);
