// A whole Anju cluster on loopback for tests and bench:cluster: one PostgreSQL, three nats-servers, one
// InfluxDB, and `anju serve --cluster` nodes as real child processes that can be killed (-9), stopped
// and started again. Devices that play QoS 1 load count what was acknowledged (PUBACK) and move to another
// node when theirs goes away, resending their unacknowledged reading as a device does.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { openDatabases, type Databases } from '../cli/databases.ts';
import { topicFor } from '../firmware-protocol/index.ts';
import type { DeviceKind } from '../firmware-protocol/index.ts';
import { partitionOf } from '../ingest/log/partitions.ts';
import { InfluxTelemetryStore } from '../ingest/store/influx.ts';
import { Registry } from '../registry/index.ts';
import { startInfluxd, type Influxd } from './influxd.ts';
import { startNatsCluster, type NatsCluster } from './nats.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { spawnAnju, type AnjuProcess } from './spawn-anju.ts';

export const CLUSTER_ADMIN_PASSWORD = 'cluster-lantern-mango-7';
/** The log's partition count (ingest/log/jetstream.ts DEFAULTS). */
export const PARTITIONS = 16;
export const TMP_ROOT = process.env.ANJU_TEST_TMP ?? '/tmp/s5-cluster';

export interface ClusterNodeProcess {
  id: string;
  /** Undefined while the node is down. */
  proc: AnjuProcess | undefined;
}

export interface TestCluster {
  pg: PostgresServer;
  url: string;
  nats: NatsCluster;
  influx: Influxd;
  dbs: Databases;
  registry: Registry;
  store: InfluxTelemetryStore;
  nodes: ClusterNodeProcess[];
  dir: string;
  start(index: number): Promise<AnjuProcess>;
  /** MQTT ports of the nodes that are up, for devices to pick from. */
  livePorts(): number[];
  /** Partition -> owning node id, from the lease table. */
  owners(): Promise<Map<number, string>>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  natsServers?: number;
  /** A rules file's YAML; the shipped defaults when absent. */
  rules?: string;
  leaseTtlS?: number;
  snapshotEveryS?: number;
  /** The nodes' pino level (warn by default); their lines are in each AnjuProcess's stdout. */
  logLevel?: string;
}

export async function startTestCluster(options: ClusterOptions): Promise<TestCluster> {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(path.join(TMP_ROOT, 'cluster-'));
  const natsServers = options.natsServers ?? 3;
  const [pg, nats, influx] = await Promise.all([
    startPostgres(),
    startNatsCluster(natsServers),
    startInfluxd(),
  ]);
  const url = await pg.createDatabase('anju');
  // Migrated here once, so the nodes start on a ready schema and the test can register devices first.
  const dbs = await openDatabases({ dataDir: dir, url });
  const registry = new Registry(dbs.registry);
  const store = new InfluxTelemetryStore({ url: influx.url, database: 'anju' });
  let rulesFile: string | undefined;
  if (options.rules) {
    rulesFile = path.join(dir, 'rules.yaml');
    writeFileSync(rulesFile, options.rules);
  }
  const nodes: ClusterNodeProcess[] = Array.from({ length: options.nodes }, (_, i) => ({
    id: `node-${String.fromCharCode(97 + i)}`,
    proc: undefined,
  }));
  const env = (node: ClusterNodeProcess): Record<string, string> => ({
    ANJU_CLUSTER: '1',
    ANJU_NODE_ID: node.id,
    ANJU_NATS_URLS: nats.urls.join(','),
    ANJU_LOG_REPLICAS: String(Math.min(3, natsServers)),
    ANJU_DATABASE_URL: url,
    ANJU_INFLUX_URL: influx.url,
    ANJU_LEASE_TTL: String(options.leaseTtlS ?? 3),
    ANJU_SNAPSHOT_EVERY: String(options.snapshotEveryS ?? 1),
    ANJU_ADMIN_PASSWORD: CLUSTER_ADMIN_PASSWORD,
    ANJU_DISK_WARN_FREE_MB: '0',
    ANJU_LOG_LEVEL: options.logLevel ?? 'warn',
    ...(rulesFile ? { ANJU_RULES_FILE: rulesFile } : {}),
  });
  const start = async (index: number) => {
    const node = nodes[index]!;
    const dataDir = path.join(dir, node.id);
    mkdirSync(dataDir, { recursive: true });
    node.proc = await spawnAnju(dataDir, env(node));
    return node.proc;
  };
  return {
    pg,
    url,
    nats,
    influx,
    dbs,
    registry,
    store,
    nodes,
    dir,
    start,
    livePorts: () =>
      nodes.flatMap((n) =>
        n.proc && n.proc.proc.exitCode === null && n.proc.proc.signalCode === null ? [n.proc.mqttPort] : [],
      ),
    async owners() {
      const rows = await dbs.registry.all<{ part: number; owner: string | null }>(
        'SELECT part, owner FROM partition_leases WHERE owner IS NOT NULL',
      );
      return new Map(rows.map((r) => [Number(r.part), r.owner!]));
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.proc?.stop()));
      await store.close().catch(() => undefined);
      await registry.close().catch(() => undefined);
      await dbs.close().catch(() => undefined);
      await Promise.all([nats.stop(), influx.destroy(), pg.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestDevice {
  id: string;
  secret: string;
  residentId: string;
  homeId: string;
  partition: number;
}

let homeCounter = 0;

/** A resident living alone in a home of their own, with one device of `kind`. */
export async function addResidentDevice(
  registry: Registry,
  kind: DeviceKind,
  prefix: string,
): Promise<TestDevice> {
  homeCounter += 1;
  const resident = await registry.addResident({
    name: `住户 ${prefix} ${homeCounter}`,
    livesAlone: true,
    address: { community: '梅花社区', compound: '一区', building: '3幢', home: `${homeCounter}01` },
  });
  const id = `${prefix}-${homeCounter}`;
  const { secret } = await registry.addDevice({ id, kind, residentId: resident.id });
  const homeId = resident.home.homeId;
  return {
    id,
    secret,
    residentId: resident.id,
    homeId,
    partition: partitionOf({ homeId, deviceId: id }, PARTITIONS),
  };
}

export function connectTo(port: number, device: TestDevice): Promise<MqttClient> {
  return mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    clientId: device.id,
    username: device.id,
    password: device.secret,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    keepalive: 30,
  });
}

/**
 * Publishes one QoS 1 message on whichever live node answers, as a device does: a connection closed
 * before the PUBACK (the node could not log it) means connect again and resend. Resolves once PUBACKed.
 */
export async function publishSomewhere(
  cluster: Pick<TestCluster, 'livePorts'>,
  device: TestDevice,
  channel: 'telemetry' | 'event',
  body: Record<string, unknown>,
  giveUpMs = 30_000,
): Promise<void> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const ports = cluster.livePorts();
    const port = ports[attempt % Math.max(1, ports.length)];
    try {
      if (port === undefined) throw new Error('no node is up');
      const client = await connectTo(port, device);
      try {
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            client.once('close', () => reject(new Error('connection closed before the PUBACK')));
            client
              .publishAsync(topicFor(device.id, channel), JSON.stringify(body), { qos: 1 })
              .then(() => resolve(), reject);
          }),
          8000,
        );
        await client.endAsync();
        return;
      } catch (err) {
        client.end(true);
        throw err;
      }
    } catch (err) {
      if (Date.now() - started > giveUpMs) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * A wearable sending heart rates with QoS 1 back to back, as fast as its node acknowledges (or every
 * `intervalMs`). A reading counts as acknowledged only when its PUBACK arrived; when the connection goes,
 * the device connects to the next live node and sends the same reading (same seq and ts) again.
 */
export class LoadDevice {
  /** seq -> ts of every acknowledged reading. */
  readonly acked = new Map<number, number>();
  /** Wall-clock times of acknowledgements, for throughput and "resumed after" checks. */
  readonly ackTimes: number[] = [];
  reconnects = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private client: MqttClient | undefined;
  private portIndex: number;

  constructor(
    readonly device: TestDevice,
    private readonly cluster: Pick<TestCluster, 'livePorts'>,
    startAt: number,
    private readonly intervalMs = 0,
  ) {
    this.portIndex = startAt;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.endAsync().catch(() => undefined);
  }

  private async connect(): Promise<MqttClient> {
    for (;;) {
      const ports = this.cluster.livePorts();
      const port = ports[this.portIndex++ % Math.max(1, ports.length)];
      if (port !== undefined) {
        try {
          return await connectTo(port, this.device);
        } catch {
          // That node is going or gone: the next one.
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async run(): Promise<void> {
    let seq = 0;
    let pending: { seq: number; ts: number } | undefined;
    while (this.running) {
      if (!this.client) {
        this.client = await this.connect();
        const client = this.client;
        client.once('close', () => {
          if (this.client === client) this.client = undefined;
          client.end(true); // fails the publish waiting on a connection that is gone
        });
      }
      const client = this.client;
      pending ??= { seq: ++seq, ts: Date.now() };
      try {
        await withTimeout(
          client.publishAsync(
            topicFor(this.device.id, 'telemetry'),
            JSON.stringify({
              ts: pending.ts,
              seq: pending.seq,
              heartRate: 60 + (pending.seq % 30),
              worn: true,
            }),
            { qos: 1 },
          ),
          8000,
        );
        this.acked.set(pending.seq, pending.ts);
        this.ackTimes.push(Date.now());
        pending = undefined;
        if (this.intervalMs > 0) await new Promise((r) => setTimeout(r, this.intervalMs));
      } catch {
        this.reconnects += 1;
        if (this.client === client) this.client = undefined;
        client.end(true);
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no PUBACK in time')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Heart rates of a device in the readings store: seq is not stored, so points are counted by time. */
export async function storedTimes(
  store: InfluxTelemetryStore,
  deviceId: string,
  from: number,
): Promise<number[]> {
  const points = await store.query({ deviceId, field: 'heartRate', from, to: Date.now() + 60_000 });
  return points.map((p) => p.ts);
}

export const quiet = pino({ level: 'silent' });
