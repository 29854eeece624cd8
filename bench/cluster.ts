// npm run bench:cluster [-- --devices 30 --seconds 15 --sos 40 --json]
//
// Anju as one cluster node and as three, each time with three nats-servers (stream replicas 3), one
// PostgreSQL and one InfluxDB, all real processes on loopback started by this script. It measures:
//   - throughput to the log: QoS 1 readings PUBACKed per second, devices sending back to back;
//   - throughput to the store: readings the nodes' store writers wrote to InfluxDB per second;
//   - SOS -> console: a wearable connected to one node presses SOS, a console on another node (the same
//     one when there is one node) receives `alert:new`, under light background load; p50/p99;
//   - failover (three nodes): kill -9 of the node owning a partition, then an SOS from a home in that
//     partition; time from the kill to the alert on a console of a surviving node.
// Every engine here shares one machine; the figures are what that machine gives, not what three would.
import type { MqttClient } from 'mqtt';
import { io as connectSocket, type Socket } from 'socket.io-client';
import type { AlertChangePayload } from '../dashboard/live/events.ts';
import { buildBundle } from '../cli/build.ts';
import { Browser } from '../dashboard/test-support.ts';
import { percentile } from '../device-sim/load.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import {
  CLUSTER_ADMIN_PASSWORD,
  LoadDevice,
  PARTITIONS,
  addResidentDevice,
  connectTo,
  startTestCluster,
  type TestCluster,
  type TestDevice,
} from '../test/cluster.ts';
import { waitFor } from '../test/harness.ts';
import { benchArgs, log } from './args.ts';

const args = benchArgs(
  'npm run bench:cluster -- [--devices N] [--seconds S] [--sos N] [--nodes 1,3] [--json]',
  {
    devices: 30,
    seconds: 15,
    sos: 40,
    nodes: '1,3',
  },
);
const { devices: deviceCount, seconds, sos: sosCount } = args;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  nodes: number;
  logPerS: number;
  storePerS: number;
  ackP50Ms: number;
  ackP99Ms: number;
  sosP50Ms: number;
  sosP99Ms: number;
  sosCount: number;
  failoverMs?: number;
}

async function storeWritten(cluster: TestCluster): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    if (!node.proc) continue;
    const text = await (await fetch(`http://127.0.0.1:${node.proc.httpPort}/metrics`)).text();
    total += Number(/^anju_cluster_store_written_total (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

async function consoleOn(httpPort: number): Promise<{ socket: Socket; seen: Map<string, number> }> {
  const tab = new Browser(`http://127.0.0.1:${httpPort}`);
  if ((await tab.signIn('admin', CLUSTER_ADMIN_PASSWORD)).status !== 200) throw new Error('sign-in failed');
  const socket = connectSocket(`http://127.0.0.1:${httpPort}`, {
    transports: ['websocket'],
    forceNew: true,
    extraHeaders: { cookie: `anju_session=${tab.cookie}` },
  });
  const seen = new Map<string, number>();
  socket.on('alert:new', (p: AlertChangePayload) => seen.set(p.alert.residentId, Date.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, seen };
}

async function measure(nodes: number): Promise<Figures> {
  log(
    `\n${nodes} node(s): starting PostgreSQL, 3 nats-servers, InfluxDB and ${nodes} anju serve --cluster...`,
  );
  const cluster = await startTestCluster({ nodes, leaseTtlS: 6, snapshotEveryS: 10 });
  try {
    const load: TestDevice[] = [];
    for (let i = 0; i < deviceCount; i++)
      load.push(await addResidentDevice(cluster.registry, 'wearable', `L${nodes}`));
    const sos: TestDevice[] = [];
    for (let i = 0; i < sosCount + 24; i++)
      sos.push(await addResidentDevice(cluster.registry, 'wearable', `S${nodes}`));
    await cluster.start(0);
    for (let i = 1; i < nodes; i++) await cluster.start(i);
    await waitFor(
      async () =>
        (await cluster.owners()).size === PARTITIONS &&
        new Set((await cluster.owners()).values()).size === nodes,
      30_000,
      250,
    );

    // Throughput: devices back to back, spread over the nodes.
    log(`  ${deviceCount} devices sending QoS 1 back to back for ${seconds} s...`);
    const written0 = await storeWritten(cluster);
    const devices = load.map((d, i) => new LoadDevice(d, cluster, i));
    const started = Date.now();
    devices.forEach((d) => d.start());
    await sleep(seconds * 1000);
    await Promise.all(devices.map((d) => d.stop()));
    const sent = Date.now() - started;
    const acked = devices.reduce((n, d) => n + d.acked.size, 0);
    const ackGaps = devices
      .flatMap((d) => d.ackTimes.slice(1).map((t, i) => t - d.ackTimes[i]!))
      .sort((a, b) => a - b);
    await waitFor(async () => (await storeWritten(cluster)) - written0 >= acked, 120_000, 200);
    const stored = Date.now() - started;

    // SOS -> console, across nodes, under light background load.
    log(`  ${sosCount} SOS presses, console on another node...`);
    const background = load.slice(0, 10).map((d, i) => new LoadDevice(d, cluster, i, 100));
    background.forEach((d) => d.start());
    const consoleNode = cluster.nodes[nodes - 1]!.proc!;
    const { socket, seen } = await consoleOn(consoleNode.httpPort);
    const pressPort = cluster.nodes[0]!.proc!.mqttPort;
    const latencies: number[] = [];
    for (const device of sos.splice(0, sosCount)) {
      const client: MqttClient = await connectTo(pressPort, device);
      const pressed = Date.now();
      await client.publishAsync(
        topicFor(device.id, 'event'),
        JSON.stringify({ ts: pressed, seq: 1, type: 'sos' }),
        { qos: 1 },
      );
      const at = await waitFor(() => seen.get(device.residentId), 10_000, 2);
      latencies.push(at - pressed);
      await client.endAsync();
      await sleep(100);
    }
    latencies.sort((a, b) => a - b);

    let failoverMs: number | undefined;
    if (nodes > 1) {
      log('  failover: kill -9 of a node, then an SOS from a home in one of its partitions...');
      const owners = await cluster.owners();
      const victimId = owners.get(0)!;
      const victim = cluster.nodes.find((n) => n.id === victimId)!;
      const device = sos.find((d) => owners.get(d.partition) === victimId);
      const survivor = cluster.nodes.find((n) => n.id !== victimId)!;
      if (device) {
        const { socket: s2, seen: seen2 } = await consoleOn(survivor.proc!.httpPort);
        const client = await connectTo(survivor.proc!.mqttPort, device);
        const killed = Date.now();
        await victim.proc!.killHard();
        victim.proc = undefined;
        await client.publishAsync(
          topicFor(device.id, 'event'),
          JSON.stringify({ ts: Date.now(), seq: 1, type: 'sos' }),
          { qos: 1 },
        );
        failoverMs = (await waitFor(() => seen2.get(device.residentId), 60_000, 5)) - killed;
        await client.endAsync();
        s2.close();
      }
    }
    socket.close();
    await Promise.all(background.map((d) => d.stop()));
    return {
      nodes,
      logPerS: Math.round((acked / sent) * 1000),
      storePerS: Math.round((acked / stored) * 1000),
      ackP50Ms: percentile(ackGaps, 50),
      ackP99Ms: percentile(ackGaps, 99),
      sosP50Ms: percentile(latencies, 50),
      sosP99Ms: percentile(latencies, 99),
      sosCount: latencies.length,
      ...(failoverMs !== undefined && { failoverMs }),
    };
  } finally {
    await cluster.stop();
  }
}

// Measure what `anju` runs: the bundle, not the TypeScript sources compiled on the fly.
await buildBundle();
const results: Figures[] = [];
for (const n of String(args.nodes).split(',').map(Number)) results.push(await measure(n));

if (args.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log('\nnodes  log/s  store/s  PUBACK p50/p99 ms  SOS->console p50/p99 ms  failover ms');
  for (const r of results)
    console.log(
      `${String(r.nodes).padEnd(5)}  ${String(r.logPerS).padStart(5)}  ${String(r.storePerS).padStart(7)}  ` +
        `${`${r.ackP50Ms}/${r.ackP99Ms}`.padStart(17)}  ${`${r.sosP50Ms}/${r.sosP99Ms} (n=${r.sosCount})`.padStart(23)}  ` +
        `${r.failoverMs ?? '-'}`,
    );
  console.log(
    `\n${deviceCount} devices, ${seconds} s; every process (nodes, 3 nats-servers, PostgreSQL, InfluxDB, this ` +
      'script) on one machine of ' +
      `${(await import('node:os')).cpus().length} cores, shared with whatever else runs on it.`,
  );
}
process.exit(0);
