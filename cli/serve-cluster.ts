// The parts of `anju serve --cluster` that a single process does not have (docs/cluster.md): the
// replicated reading log that a QoS 1 PUBACK waits on, client takeover across nodes, rule workers on the
// partitions this node leases instead of the one engine, the store writer on the log's shared consumer,
// and Socket.IO events shared through PostgreSQL. cli/serve.ts only chooses; everything else (registry,
// alerts with their escalation outbox, HTTP) is the same code on the same shared PostgreSQL.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Server as SocketIoServer } from 'socket.io';
import type { AlertService } from '../alerting/alerts/service.ts';
import { CLUSTER_SCHEMA } from '../alerting/cluster/migrations.ts';
import { RuleWorkers } from '../alerting/cluster/rule-workers.ts';
import { RuleEngine, type ResidentJudgement, type ResidentJudgements } from '../alerting/engine.ts';
import type { RegistryContext } from '../alerting/resident-context.ts';
import type { ResidentOverrides } from '../alerting/runtime.ts';
import { ruleSetWith } from '../alerting/resident-rules/document.ts';
import { watchRules } from '../alerting/rules/watch.ts';
import { usePostgresAdapter, type SocketAdapter } from '../dashboard/socket-adapter.ts';
import { migrate } from '../database/migrations.ts';
import type { Database } from '../database/sql.ts';
import type { Gateway } from '../gateway/gateway.ts';
import type { AcceptedReading, DeviceDirectory } from '../gateway/ports.ts';
import { closeTakenOverClients } from '../gateway/takeover.ts';
import { natsTakeoverBus } from '../gateway/takeover-nats.ts';
import { JetStreamReadingLog } from '../ingest/log/jetstream.ts';
import { LogStoreWriter } from '../ingest/log/store-consumer.ts';
import type { TelemetryStore } from '../ingest/store/types.ts';
import { watchHomes, type Registry } from '../registry/index.ts';
import type { ClusterConfig } from './config.ts';

/** The rule whose raise, on the partition's owner, is a device's presence going offline. */
const OFFLINE_RULE = 'device.offline';
/** The durable consumer every node's store writer shares. */
const STORE_CONSUMER = 'anju-store';
/** A batch a dead node took but never acknowledged comes back to another node after this. */
const STORE_ACK_WAIT_MS = 30_000;

/**
 * Connects to the reading log (creating or updating its stream) and migrates the lease tables: what the
 * gateway needs before it takes a connection.
 */
export async function openClusterLog(
  config: ClusterConfig,
  db: Database,
  logger: Logger,
): Promise<JetStreamReadingLog> {
  await migrate(db, [CLUSTER_SCHEMA]);
  const log = await JetStreamReadingLog.connect({
    servers: config.nats,
    replicas: config.replicas,
    name: `anju-${config.nodeId}`,
  });
  logger.info({ nats: config.nats, nodeId: config.nodeId, partitions: log.partitions }, 'reading log open');
  return log;
}

/**
 * Presence in a cluster: a node that dies takes its connections with it and nobody receives their wills,
 * and a node stopped for a rolling restart would mark all its devices offline while they reconnect
 * elsewhere. So a node records online and last-seen times only; offline is judged by the device.offline
 * rule of the partition's owner, from silence, and recorded by that node (startClusterNode).
 */
export function clusterDirectory(registry: DeviceDirectory): DeviceDirectory {
  return {
    findDevice: (id) => registry.findDevice(id),
    revokedIds: () => registry.revokedIds(),
    markOnline: (id, at) => registry.markOnline(id, at),
    markOffline: () => undefined,
    markSeen: (id, at) => registry.markSeen(id, at),
  };
}

export interface ClusterNodeOptions {
  config: ClusterConfig;
  /** The shared PostgreSQL URL (the Socket.IO adapter keeps its own small pool). */
  databaseUrl: string;
  db: Database;
  log: JetStreamReadingLog;
  gateway: Gateway;
  io: SocketIoServer;
  alerts: AlertService;
  store: TelemetryStore;
  registry: Registry;
  context: RegistryContext;
  rulesFile?: string;
  residentOverrides?: ResidentOverrides;
  metrics: MetricsRegistry;
  logger: Logger;
}

export interface ClusterNode {
  workers: RuleWorkers;
  storeWriter: LogStoreWriter;
  /** What the rules of the partitions held here think of a resident (others' are on their owners). */
  judgements: ResidentJudgements;
  status(): { nodeId: string; partitions: number[]; storeWritten: number; storeRefused: number };
  close(): Promise<void>;
}

export async function startClusterNode(opts: ClusterNodeOptions): Promise<ClusterNode> {
  const { config, log, logger } = opts;
  const stopTakeover = closeTakenOverClients(
    opts.gateway.broker,
    config.nodeId,
    natsTakeoverBus(log.connection),
  );
  let adapter: SocketAdapter | undefined;
  try {
    adapter = await usePostgresAdapter(opts.io, opts.databaseUrl);
  } catch (err) {
    stopTakeover();
    throw err;
  }

  const storeWriter = new LogStoreWriter({
    consumer: await log.shared(STORE_CONSUMER, STORE_ACK_WAIT_MS),
    store: opts.store,
    logger: logger.child({ part: 'store-writer' }),
  });
  storeWriter.start();

  // The presence the gateways no longer record: offline once the owner's rule finds the device silent.
  // A raise replayed after a take-over is older than a reading seen since, and changes nothing.
  const markSilentOffline = (deviceId: string, at: number) => {
    opts.registry
      .getDevice(deviceId)
      .then((device) => {
        if (device && (device.lastSeen ?? 0) <= at) opts.registry.markOffline(deviceId, at);
      })
      .catch((err: unknown) => logger.error({ err, deviceId }, 'silent device not marked offline'));
  };
  const currentRules = async () => ruleSetWith(opts.rulesFile, (await opts.residentOverrides?.all()) ?? {});
  let rules = await currentRules();
  // Each leased partition gets its own engine on the rules in force; their signals go to the same alert
  // lifecycle as the single engine's (one open alert per resident and rule, by the alerts store).
  const newEngine = () => {
    const engine = new RuleEngine({
      context: opts.context,
      rules,
      onListenerError: (err) => logger.error({ err }, 'alert signal not applied'),
    });
    engine.onSignal((signal) => {
      opts.alerts
        .apply(signal)
        .catch((err: unknown) => logger.error({ err, signal }, 'alert signal not applied'));
      if (signal.ruleId === OFFLINE_RULE && signal.action === 'raise' && signal.deviceId)
        markSilentOffline(signal.deviceId, signal.at);
    });
    return engine;
  };
  // A device registered a moment ago (its first reading, an SOS perhaps, reached the log through a gateway
  // that found it in the registry) must not be judged as nobody's: its partition waits for one reload,
  // as the single engine does (alerting/runtime.ts). Once a minute per device at most.
  const reloadedFor = new Map<string, number>();
  const admit = (reading: AcceptedReading): Promise<void> | undefined => {
    if (opts.context.knows(reading.deviceId)) return undefined;
    if (Date.now() - (reloadedFor.get(reading.deviceId) ?? -Infinity) <= 60_000) return undefined;
    if (reloadedFor.size > 10_000) reloadedFor.clear();
    reloadedFor.set(reading.deviceId, Date.now());
    return opts.context.reload().then(() => {
      for (const engine of engines()) engine.refreshHomes(reading.homeId ? [reading.homeId] : []);
    });
  };
  const workers: RuleWorkers = new RuleWorkers({
    db: opts.db,
    nodeId: config.nodeId,
    log,
    newEngine,
    admit,
    logger: logger.child({ part: 'rule-workers' }),
    leaseTtlMs: config.leaseTtlS * 1000,
    snapshotEveryMs: config.snapshotEveryS * 1000,
  });
  const engines = () => workers.partitions.flatMap((p) => workers.engineOf(p) ?? []);
  workers.start();

  let reloading = Promise.resolve();
  const reload = (why: string) => {
    reloading = reloading.then(async () => {
      try {
        rules = await currentRules();
        for (const engine of engines()) engine.setRules(rules);
        logger.info({ why }, 'rules reloaded on every partition held');
      } catch (err) {
        logger.error({ err }, 'rules not reloaded; previous rules stay');
      }
    });
  };
  const stopOverrides = opts.residentOverrides?.onChange(() => reload('resident override changed'));
  const watcher =
    opts.rulesFile &&
    watchRules(opts.rulesFile, {
      onReload: () => reload('rules file changed'),
      onError: (err) => logger.error({ err }, 'rules not reloaded; previous rules stay'),
    });
  const stopHomeWatch = watchHomes(
    opts.registry,
    (homeIds) => {
      opts.context
        .reload()
        .then(() => engines().forEach((engine) => engine.refreshHomes(homeIds)))
        .catch((err: unknown) => logger.error({ err }, 'devices not re-bound after a resident change'));
    },
    { onError: (err) => logger.error({ err }, 'registry watch failed; trying again') },
  );

  new Gauge({
    name: 'anju_cluster_partitions_held',
    help: 'Reading log partitions whose rules this node runs now.',
    registers: [opts.metrics],
    collect() {
      this.set(workers.partitions.length);
    },
  });
  new Counter({
    name: 'anju_cluster_store_written_total',
    help: 'Readings this node wrote from the log to the telemetry store.',
    registers: [opts.metrics],
    collect() {
      this.reset();
      this.inc(storeWriter.written);
    },
  });

  return {
    workers,
    storeWriter,
    judgements: {
      judgement(residentId): ResidentJudgement | undefined {
        for (const engine of engines()) {
          const found = engine.judgement(residentId);
          if (found) return found;
        }
        return undefined;
      },
    },
    status: () => ({
      nodeId: config.nodeId,
      partitions: workers.partitions,
      storeWritten: storeWriter.written,
      storeRefused: storeWriter.refused,
    }),
    async close() {
      if (watcher) watcher.close();
      stopOverrides?.();
      stopHomeWatch();
      stopTakeover();
      // Snapshot and hand back every partition, so the others take them without waiting for the lease.
      await workers
        .stop()
        .catch((err: unknown) => logger.error({ err }, 'partitions not handed back; they expire instead'));
      await reloading;
      await storeWriter.stop();
      await adapter?.close().catch(() => undefined);
    },
  };
}
