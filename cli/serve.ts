// The composition of a running Anju: which parts run in this process, wired in the direction a reading
// travels (gateway -> journal -> store writer). Everything started here is stopped by close().
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server as NetServer } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Gauge, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { Server as SocketIoServer } from 'socket.io';
import { Accounts, ensureFirstAdmin } from '../dashboard/accounts/index.ts';
import { buildHttpApp } from '../dashboard/app.ts';
import { ResidentRuleStore } from '../alerting/resident-rules/index.ts';
import { createSocketServer } from '../dashboard/socket.ts';
import { SocketIoChannel } from '../dashboard/live/socketio-channel.ts';
import { Views } from '../dashboard/views.ts';
import { startAlerting, type RunningAlerting } from '../alerting/runtime.ts';
import { loadNotifications } from '../alerting/notifications.ts';
import { Gateway, attachMqttWebSocket, gatewayMetrics, listenMqtt, listenMqtts } from '../gateway/index.ts';
import { Journal } from '../ingest/journal.ts';
import { InfluxTelemetryStore } from '../ingest/store/influx.ts';
import { Influx2TelemetryStore } from '../ingest/store/influx2.ts';
import { ThreadedSqliteTelemetryStore } from '../ingest/store/sqlite-threaded.ts';
import type { TelemetryStore } from '../ingest/store/types.ts';
import { StoreWriter } from '../ingest/store-writer.ts';
import { EmergencyCards } from '../registry/emergency-cards.ts';
import { Registry } from '../registry/index.ts';
import { registryContext } from '../alerting/resident-context.ts';
import { openDatabases, type Databases } from './databases.ts';
import { StorageAlarm } from '../alerting/storage-alarm.ts';
import { DiskSpace } from '../ops/disk-space.ts';
import { WriteHealth } from '../ops/write-health.ts';
import { ServeConfig, type ServeConfigInput } from './config.ts';
import { clusterDirectory, openClusterLog, startClusterNode, type ClusterNode } from './serve-cluster.ts';

/** How soon a revocation made by another process cuts off a connected device. */
const REVOCATION_CHECK_MS = 15_000;
/** How often ended browser sessions are deleted. */
const SESSION_PURGE_MS = 3_600_000;

export interface RunningAnju {
  config: ServeConfig;
  logger: Logger;
  registry: Registry;
  /** The database handles every store of this process was given (closed by close()). */
  databases: Databases;
  gateway: Gateway;
  journal: Journal;
  store: TelemetryStore;
  writer: StoreWriter;
  alerting: RunningAlerting;
  io: SocketIoServer;
  /** Dashboard users, sessions and the login audit (in the registry's database). */
  accounts: Accounts;
  residentRules: ResidentRuleStore;
  metrics: MetricsRegistry;
  /** Every write path's failures and recoveries (journal, store, presence, alerts, ...). */
  writeHealth: WriteHealth;
  disk: DiskSpace;
  /** With --cluster: the rule workers, the log's store writer (the journal and writer above stay idle). */
  cluster?: ClusterNode;
  /** Actual ports, useful when 0 asked for a free one. */
  ports: { mqtt: number; http: number; mqtts?: number };
  close(): Promise<void>;
}

function portOf(server: NetServer): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** The telemetry store the configuration names: InfluxDB's v2 API, its v1 API, or embedded SQLite. */
export function openTelemetryStore(config: ServeConfig, logger: Logger): TelemetryStore {
  const retentionMs = config.retentionDays === undefined ? undefined : config.retentionDays * 86_400_000;
  if (config.influxUrl && config.influxOrg && config.influxBucket) {
    return new Influx2TelemetryStore(
      {
        url: config.influxUrl,
        org: config.influxOrg,
        bucket: config.influxBucket,
        token: config.influxToken,
        retentionMs,
      },
      logger,
    );
  }
  if (config.influxUrl) {
    return new InfluxTelemetryStore({
      url: config.influxUrl,
      database: config.influxDb,
      username: config.influxUsername,
      password: config.influxPassword,
      retentionMs,
    });
  }
  return new ThreadedSqliteTelemetryStore({ dataDir: config.dataDir, retentionMs });
}

export async function startAnju(input: ServeConfigInput, logger?: Logger): Promise<RunningAnju> {
  const config = ServeConfig.parse(input);
  const log = logger ?? pino({ name: 'anju', level: config.logLevel });
  mkdirSync(config.dataDir, { recursive: true });

  const metrics = new MetricsRegistry();
  collectDefaultMetrics({ register: metrics });
  // A full or failing disk is reported by every write path here, and none of them ends the process.
  const writeHealth = new WriteHealth({ metrics, logger: log.child({ part: 'storage' }) });
  const disk = new DiskSpace(config.dataDir, config.diskWarnFreeMb * 1024 * 1024, metrics);

  // Opened (and migrated) once; every store that lives in the registry's database is given its handle.
  const dbs = await openDatabases({ dataDir: config.dataDir, url: config.database });
  const lastSeenWrites = writeHealth.reporter('last_seen');
  const registry = new Registry(dbs.registry, {
    onFlushError: (err) => lastSeenWrites.failed(err), // kept and written with the next flush
    onFlushed: () => lastSeenWrites.succeeded(),
    tokenUseWrites: writeHealth.reporter('api_tokens'),
  });
  const context = registryContext(registry, {
    onError: (err) => log.error({ err, part: 'alerting' }, 'registry not read for the rules; tried again'),
  });
  await context.ready; // before the journal's backlog is judged
  // A cluster node acknowledges readings once the replicated log has them, not its own journal.
  const clusterLog = config.cluster
    ? await openClusterLog(config.cluster, dbs.registry, log.child({ part: 'cluster' }))
    : undefined;
  const journal = new Journal({
    path: path.join(config.dataDir, 'journal.db'),
    writes: writeHealth.reporter('journal'),
    logger: log.child({ part: 'journal' }),
    onListenerError: (err) => log.error({ err, part: 'journal' }, 'a journal consumer failed on a batch'),
  });
  new Gauge({
    name: 'anju_journal_worker_restarts',
    help: "Times the journal's commit thread died and was started again since the process started.",
    registers: [metrics],
    collect() {
      this.set(journal.restarts);
    },
  });
  const gateway = await Gateway.create({
    directory: config.cluster ? clusterDirectory(registry) : registry,
    sink: clusterLog ?? journal,
    logger: log.child({ part: 'gateway' }),
    metrics: gatewayMetrics(metrics),
    limits: {
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      connectTimeoutMs: config.connectTimeoutS * 1000,
      maxSilentPerAddress: config.maxSilentPerAddress,
    },
    presenceWrites: writeHealth.reporter('presence'),
  });

  const store = openTelemetryStore(config, log.child({ part: 'store' }));
  const writer = new StoreWriter({
    journal,
    store,
    metrics,
    logger: log.child({ part: 'store-writer' }),
    writes: writeHealth.reporter('store'),
  });
  if (!clusterLog) writer.start(); // in a cluster the log's shared consumer feeds the store

  // Accounts before alerting: escalation tells the people behind contacts the way they chose.
  const accounts = new Accounts(dbs.registry, { sessionWrites: writeHealth.reporter('sessions') });
  // Alerts as people see them (names, not ids), the same on every socket event and HTTP answer.
  const views = new Views({
    registry,
    known: context,
    store,
    refusals: (deviceId) => gateway.refusals.forDevice(deviceId),
    user: (id) => accounts.users.get(id),
  });
  // Socket.IO is created first so that alert channels can use it, and attached to the HTTP server below.
  const io = createSocketServer();
  const residentRules = new ResidentRuleStore(dbs.registry);
  const alerting = await startAlerting({
    dataDir: config.dataDir,
    alertsDb: dbs.alerts,
    registry,
    journal,
    logger: log.child({ part: 'alerting' }),
    channels: [new SocketIoChannel(io, { view: (alert) => views.alert(alert) })],
    rulesFile: config.rulesFile,
    notificationsFile: config.notificationsFile,
    residentOverrides: residentRules,
    people: accounts.contactLinks,
    context,
    metrics,
    writes: { alerts: writeHealth.reporter('alerts'), ruleState: writeHealth.reporter('rule_state') },
  });
  const cluster =
    clusterLog &&
    (await startClusterNode({
      config: config.cluster!,
      databaseUrl: config.database!,
      db: dbs.registry,
      log: clusterLog,
      gateway,
      io,
      alerts: alerting.alerts,
      store,
      registry,
      context,
      rulesFile: config.rulesFile,
      residentOverrides: residentRules,
      metrics,
      logger: log.child({ part: 'cluster' }),
    }));
  const emergencyCards = new EmergencyCards(dbs.registry);
  const storageAlarm = new StorageAlarm({
    condition: () => ({ ...disk.check(), failing: writeHealth.failing() }),
    signal: (signal) =>
      void alerting.alerts
        .apply(signal)
        .catch((err: unknown) => log.error({ err }, 'storage alarm not applied')),
    logger: log.child({ part: 'storage' }),
  });
  storageAlarm.check();
  const unwatchWrites = writeHealth.onChange(() => storageAlarm.check());

  // Dashboard accounts: the first start creates the admin, with a generated password shown only now.
  await ensureFirstAdmin(accounts.users, {
    password: config.adminPassword,
    announce: (message) => {
      log.warn('first admin created; the generated password is printed on standard output, once');
      process.stdout.write(`\n${message}\n\n`);
    },
  });
  const purgeSessions = () =>
    accounts.sessions
      .purgeExpired()
      .catch((err: unknown) => log.error({ err }, 'expired sessions not purged; tried again later'));
  await purgeSessions();
  const sessionPurge = setInterval(purgeSessions, SESSION_PURGE_MS);
  sessionPurge.unref();

  const http = await buildHttpApp({
    logger: log.child({ part: 'http' }),
    ...(alerting.voiceCallbacks ? { providerCallbacks: { tencentVoice: alerting.voiceCallbacks } } : {}),
    ops: {
      metrics,
      checks: {
        broker: async () => ({
          ok: !gateway.broker.closed,
          detail: { connected: gateway.broker.connectedClients },
        }),
        journal: async () => {
          const status = writer.status();
          return {
            ok: status.depth < journal.maxDepth,
            detail: { ...status, maxDepth: journal.maxDepth, workerRestarts: journal.restarts },
          };
        },
        ...(cluster && { cluster: async () => ({ ok: true, detail: cluster.status() }) }),
        store: async () => {
          const health = await store.health();
          return { ok: health.ok, detail: health };
        },
        storage: async () => {
          const space = disk.check();
          const failing = writeHealth.failing();
          return {
            ok: failing.length === 0 && !space.full,
            ...(space.low
              ? { warning: space.full ? 'data directory full' : 'data directory almost full' }
              : {}),
            detail: {
              dataDir: config.dataDir,
              ...space,
              failing,
              parts: writeHealth.status(),
              alertsNotStored: alerting.alerts.pendingWrites(),
            },
          };
        },
      },
    },
    readings: {
      store,
      deviceExists: async (id) => (await registry.getDevice(id)) !== undefined,
      residentExists: async (id) => (await registry.getResident(id)) !== undefined,
    },
    verifyToken: (token) => registry.tokens.verify(token),
    trustProxy: config.trustProxy,
    dashboard: {
      registry,
      accounts,
      alerts: alerting.alerts,
      residentRules,
      emergencyCards,
      judgements: cluster?.judgements ?? alerting.engine,
      views,
      rulesFile: config.rulesFile,
      io,
      disconnectRevoked: async () => void (await gateway.disconnectRevoked()),
      sessionCheckMs: config.sessionCheckS * 1000,
      reports: {
        registry: dbs.registry,
        alerts: dbs.alerts,
        policies: loadNotifications(config.notificationsFile).escalation,
      },
    },
  });
  attachMqttWebSocket(gateway, http.server);
  io.attach(http.server);
  await http.listen({ port: config.httpPort, host: config.host });

  const mqtt = await listenMqtt(gateway, config.mqttPort, config.host);
  let mqtts: NetServer | undefined;
  if (config.tlsCert && config.tlsKey) {
    mqtts = await listenMqtts(gateway, config.mqttsPort, config.host, {
      cert: readFileSync(config.tlsCert),
      key: readFileSync(config.tlsKey),
    });
  }

  const revocationCheck = setInterval(() => {
    // A failing disk or an unreachable PostgreSQL fails this read: logged, tried again at the next tick.
    gateway
      .disconnectRevoked()
      .catch((err: unknown) => log.error({ err }, 'revocations not checked; tried again later'));
  }, REVOCATION_CHECK_MS);
  revocationCheck.unref();

  const ports = {
    mqtt: portOf(mqtt),
    http: portOf(http.server),
    ...(mqtts ? { mqtts: portOf(mqtts) } : {}),
  };
  log.info({ ports, dataDir: config.dataDir, database: dbs.registry.location }, 'anju started');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stop taking connections, then close the broker, which ends the open ones the servers wait for.
      clearInterval(revocationCheck);
      clearInterval(sessionPurge);
      storageAlarm.close();
      unwatchWrites();
      const listenersClosed = Promise.all(
        [mqtt, mqtts].map((s) => s && new Promise((r) => s.close(() => r(undefined)))),
      );
      await gateway.close();
      await listenersClosed;
      await new Promise((r) => io.close(() => r(undefined)));
      await http.close().catch(() => undefined);
      await cluster?.close();
      await clusterLog
        ?.close()
        .catch((err: unknown) => log.error({ err }, 'reading log not drained at stop'));
      await alerting.close();
      await writer.stop();
      // Cursors not saved at stop (a full disk) only mean some readings are written to the store again.
      await journal.close().catch((err: unknown) => log.error({ err }, 'journal cursors not saved at stop'));
      await store.close();
      // Only buffered last-seen times are lost; presence is rebuilt as devices reconnect.
      await registry
        .close()
        .catch((err: unknown) => log.error({ err }, 'last-seen times not written at stop'));
      await dbs.close();
      log.info('anju stopped');
    })());

  return {
    config,
    logger: log,
    registry,
    databases: dbs,
    gateway,
    journal,
    store,
    writer,
    alerting,
    io,
    accounts,
    residentRules,
    metrics,
    writeHealth,
    disk,
    ...(cluster && { cluster }),
    ports,
    close,
  };
}
