import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { databaseOption, dataDirOption } from '../options.ts';
import { z } from 'zod';
import { ServeConfig, type ServeConfigInput } from '../config.ts';
import { startAnju } from '../serve.ts';

/** The cluster settings when --cluster (or ANJU_CLUSTER=1) is given; ServeConfig checks the rest. */
function clusterOptions(opts: Record<string, string | boolean | undefined>) {
  if (!opts.cluster || opts.cluster === '0' || opts.cluster === 'false') return undefined;
  const nats = typeof opts.nats === 'string' ? opts.nats.split(',').map((u) => u.trim()) : [];
  return {
    nats: nats.filter(Boolean),
    nodeId: typeof opts.nodeId === 'string' ? opts.nodeId : hostname(),
    replicas: opts.logReplicas as string,
    leaseTtlS: opts.leaseTtl as string,
    snapshotEveryS: opts.snapshotEvery as string,
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the MQTT gateway, ingest and HTTP API in one process')
    .addOption(dataDirOption())
    .addOption(databaseOption())
    .addOption(new Option('--host <address>', 'address to listen on').env('ANJU_HOST').default('0.0.0.0'))
    .addOption(new Option('--mqtt-port <port>', 'MQTT over TCP').env('ANJU_MQTT_PORT').default('1883'))
    .addOption(
      new Option('--http-port <port>', 'HTTP API, metrics and MQTT over WebSocket at /mqtt')
        .env('ANJU_HTTP_PORT')
        .default('8080'),
    )
    .addOption(
      new Option('--mqtts-port <port>', 'MQTT over TLS (with --tls-cert and --tls-key)')
        .env('ANJU_MQTTS_PORT')
        .default('8883'),
    )
    .addOption(new Option('--tls-cert <file>', 'PEM certificate for MQTTS').env('ANJU_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'PEM private key for MQTTS').env('ANJU_TLS_KEY'))
    .addOption(
      new Option(
        '--influx-url <url>',
        'store readings in InfluxDB instead of embedded SQLite (v2 API with --influx-org/--influx-bucket, else v1)',
      ).env('ANJU_INFLUX_URL'),
    )
    .addOption(
      new Option('--influx-org <org>', 'InfluxDB 2.x/Cloud organization (3.x ignores it)').env(
        'ANJU_INFLUX_ORG',
      ),
    )
    .addOption(
      new Option(
        '--influx-bucket <bucket>',
        'InfluxDB 2.x/Cloud bucket or 3.x database; API token in ANJU_INFLUX_TOKEN',
      ).env('ANJU_INFLUX_BUCKET'),
    )
    .addOption(
      new Option('--influx-db <name>', 'InfluxDB database (1.x) or DBRP-mapped bucket (2.x/3.x)')
        .env('ANJU_INFLUX_DB')
        .default('anju'),
    )
    .addOption(
      new Option('--influx-username <name>', 'InfluxDB user (2.x/3.x: any name)').env('ANJU_INFLUX_USERNAME'),
    )
    .addOption(
      new Option(
        '--influx-password <secret>',
        'InfluxDB password (2.x/3.x: an API token); prefer the env variable',
      ).env('ANJU_INFLUX_PASSWORD'),
    )
    .addOption(
      new Option(
        '--max-connections-per-address <n>',
        'MQTT connections one IP address may hold (raise behind NAT)',
      )
        .env('ANJU_MAX_CONNECTIONS_PER_ADDRESS')
        .default('500'),
    )
    .addOption(
      new Option('--connect-timeout <seconds>', 'close an MQTT connection that sends no CONNECT within this')
        .env('ANJU_CONNECT_TIMEOUT')
        .default('3'),
    )
    .addOption(
      new Option(
        '--max-silent-per-address <n>',
        'MQTT connections one IP address may hold before sending CONNECT; past it the oldest is closed',
      )
        .env('ANJU_MAX_SILENT_PER_ADDRESS')
        .default('50'),
    )
    .addOption(
      new Option(
        '--disk-warn-free-mb <MiB>',
        'warn (health, log, staff alert) when the data directory has less free space than this',
      )
        .env('ANJU_DISK_WARN_FREE_MB')
        .default('512'),
    )
    .addOption(
      new Option(
        '--rules <file>',
        'alert rules (YAML or JSON), reloaded when changed; default: the shipped rules',
      ).env('ANJU_RULES_FILE'),
    )
    .addOption(
      new Option('--notifications <file>', 'SMTP, webhooks and escalation policies (YAML or JSON)').env(
        'ANJU_NOTIFICATIONS_FILE',
      ),
    )
    .addOption(
      new Option('--retention-days <days>', 'delete readings older than this (default: keep them)').env(
        'ANJU_RETENTION_DAYS',
      ),
    )
    .addOption(
      new Option(
        '--trust-proxy <addresses>',
        'behind a TLS-terminating proxy: "true" or its addresses, so forwarded https gets Secure cookies',
      ).env('ANJU_TRUST_PROXY'),
    )
    .addOption(new Option('--log-level <level>', 'pino log level').env('ANJU_LOG_LEVEL').default('info'))
    .addOption(
      new Option(
        '--cluster',
        'run as one node of a cluster: needs --nats, a postgres:// --database and --influx-url (docs/cluster.md)',
      ).env('ANJU_CLUSTER'),
    )
    .addOption(
      new Option(
        '--nats <urls>',
        'cluster: NATS JetStream servers, comma-separated (nats://h1:4222,...)',
      ).env('ANJU_NATS_URLS'),
    )
    .addOption(
      new Option(
        '--node-id <id>',
        "cluster: this node's name, unique among the nodes (default: host name)",
      ).env('ANJU_NODE_ID'),
    )
    .addOption(
      new Option('--log-replicas <n>', 'cluster: copies of the reading log kept by the NATS servers')
        .env('ANJU_LOG_REPLICAS')
        .default('3'),
    )
    .addOption(
      new Option('--lease-ttl <seconds>', "cluster: a silent node's partitions go to the others after this")
        .env('ANJU_LEASE_TTL')
        .default('6'),
    )
    .addOption(
      new Option('--snapshot-every <seconds>', "cluster: how often each partition's rule state is saved")
        .env('ANJU_SNAPSHOT_EVERY')
        .default('10'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Example:',
        '  anju serve --data-dir /var/lib/anju --mqtt-port 1883 --http-port 8080',
        '  ANJU_INFLUX_URL=http://127.0.0.1:8086 anju serve --data-dir /var/lib/anju   # InfluxDB 1.x',
        '',
        'One node of a cluster (three NATS servers, one PostgreSQL, one InfluxDB; see docs/cluster.md):',
        '  anju serve --cluster --node-id a --nats nats://n1:4222,nats://n2:4222,nats://n3:4222 \\',
        '    --database postgres://anju@db/anju --influx-url http://influx:8086',
        '',
        'InfluxDB 2.x, 3.x or Cloud (v2 write API, InfluxQL reads; the API token in ANJU_INFLUX_TOKEN):',
        '  anju serve --influx-url http://influx2.example:8086 --influx-org care --influx-bucket anju   # 2.x',
        '  anju serve --influx-url http://influx3.example:8181 --influx-org - --influx-bucket anju      # 3.x',
        '  anju serve --influx-url https://eu-central-1-1.aws.cloud2.influxdata.com --influx-org care --influx-bucket anju   # Cloud',
        '',
      ].join('\n'),
    )
    .action(async (opts) => {
      // Fault-injection tests only: a parent that spawned this process with an IPC channel may move its
      // clock or kill its journal thread (cli/test-hooks.ts). Never on unless asked for in the environment.
      const hooks =
        process.env.ANJU_TEST_HOOKS === '1' && process.send ? await import('../test-hooks.ts') : undefined;
      hooks?.installTestClock();
      const input: ServeConfigInput = {
        dataDir: opts.dataDir,
        database: opts.database,
        host: opts.host,
        mqttPort: opts.mqttPort,
        httpPort: opts.httpPort,
        mqttsPort: opts.mqttsPort,
        tlsCert: opts.tlsCert,
        tlsKey: opts.tlsKey,
        logLevel: opts.logLevel,
        maxConnectionsPerAddress: opts.maxConnectionsPerAddress,
        connectTimeoutS: opts.connectTimeout,
        maxSilentPerAddress: opts.maxSilentPerAddress,
        diskWarnFreeMb: opts.diskWarnFreeMb,
        retentionDays: opts.retentionDays,
        trustProxy: opts.trustProxy,
        rulesFile: opts.rules,
        notificationsFile: opts.notifications,
        // Only from the environment: a password on the command line is visible to every local user.
        adminPassword: process.env.ANJU_ADMIN_PASSWORD,
        influxUrl: opts.influxUrl,
        influxDb: opts.influxDb,
        influxUsername: opts.influxUsername,
        influxPassword: opts.influxPassword,
        influxOrg: opts.influxOrg,
        influxBucket: opts.influxBucket,
        // Only from the environment, like the admin password.
        influxToken: process.env.ANJU_INFLUX_TOKEN,
        cluster: clusterOptions(opts),
      };
      // A wrong setting is named in words, before anything is opened.
      const checked = ServeConfig.safeParse(input);
      if (!checked.success) throw new Error(`invalid settings:\n${z.prettifyError(checked.error)}`);
      const anju = await startAnju(input);
      const stop = (signal: string) => {
        anju.logger.info({ signal }, 'stopping');
        anju.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (hooks) hooks.installTestHooks(anju);
    });
}
