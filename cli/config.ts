// The configuration of a running Anju, validated in one place whether it comes from flags or environment.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);

/** One node of a cluster: its NATS JetStream servers and its name among the nodes. */
export const ClusterConfig = z.object({
  nats: z
    .array(z.string().regex(/^(nats|tls):\/\/\S+$/, 'must be a nats:// URL'))
    .min(1, 'give the NATS servers: --nats nats://h1:4222,nats://h2:4222,nats://h3:4222'),
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)')
    .meta({ description: 'Unique among the nodes; a restarted node may reuse its id.' }),
  /** Copies of the reading log (3 in production: an acknowledgement means held by 2 of 3 servers). */
  replicas: z.coerce.number().int().min(1).max(5).default(3),
  /** A node silent this long loses its partitions to the others. */
  leaseTtlS: z.coerce.number().positive().max(300).default(6),
  /** How often each partition's rule state is saved with its log position. */
  snapshotEveryS: z.coerce.number().positive().max(3600).default(10),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export const ServeConfig = z
  .object({
    dataDir: z.string().min(1),
    database: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional()
      .meta({
        description:
          'PostgreSQL URL shared by every Anju process of a community (ANJU_DATABASE_URL); SQLite files in dataDir when unset.',
      }),
    host: z.string().default('0.0.0.0').meta({ description: 'Address the MQTT and HTTP listeners bind to.' }),
    mqttPort: port.default(1883),
    httpPort: port.default(8080),
    mqttsPort: port.default(8883),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    influxUrl: z.url().optional(),
    influxDb: z.string().min(1).default('anju'),
    influxUsername: z.string().optional(),
    influxPassword: z.string().optional(),
    influxOrg: z.string().min(1).optional().meta({
      description: 'With influxBucket: write through the v2 API (InfluxDB 2.x, 3.x, Cloud) instead of v1.',
    }),
    influxBucket: z.string().min(1).optional(),
    influxToken: z.string().min(1).optional().meta({ description: 'API token (ANJU_INFLUX_TOKEN only).' }),
    retentionDays: z.coerce.number().int().min(1).optional().meta({
      description: 'Readings older than this are deleted from the telemetry store; kept forever when unset.',
    }),
    trustProxy: z
      .string()
      .optional()
      .transform((v) =>
        v === undefined || v === '' ? undefined : v === 'true' ? true : v.split(',').map((a) => a.trim()),
      )
      .meta({
        description: '"true" or a comma-separated list of proxy addresses whose X-Forwarded-* headers count.',
      }),
    rulesFile: z
      .string()
      .optional()
      .meta({ description: 'Rules (YAML/JSON) to use and watch instead of the defaults.' }),
    notificationsFile: z
      .string()
      .optional()
      .meta({ description: 'SMTP, webhooks and escalation policies (YAML/JSON).' }),
    adminPassword: z.string().min(10).optional().meta({
      description: "The first admin's password (ANJU_ADMIN_PASSWORD); generated and printed when absent.",
    }),
    maxConnectionsPerAddress: z.coerce.number().int().min(1).default(500),
    connectTimeoutS: z.coerce.number().positive().max(60).default(3).meta({
      description: 'Seconds a new MQTT connection may take to send CONNECT before it is closed.',
    }),
    maxSilentPerAddress: z.coerce.number().int().min(1).default(50).meta({
      description:
        'MQTT connections one address may hold before sending CONNECT; past it the oldest is closed.',
    }),
    diskWarnFreeMb: z.coerce.number().min(0).default(512).meta({
      description:
        'Below this much free space (MiB) in the data directory, /healthz warns and staff get a system alert.',
    }),
    sessionCheckS: z.coerce.number().positive().max(3600).default(15).meta({
      description:
        'Seconds between looks at the sessions of open Socket.IO connections, which another Anju process sharing the database may end.',
    }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    cluster: ClusterConfig.optional().meta({
      description: 'Run as one node of a cluster (docs/cluster.md); the embedded single process when unset.',
    }),
  })
  // Half a v2 set-up would silently fall back to the v1 API and a database nobody asked for.
  .refine((c) => (c.influxOrg === undefined) === (c.influxBucket === undefined), {
    message: 'give both --influx-org and --influx-bucket (InfluxDB 2.x, 3.x, Cloud), or neither',
    path: ['influxBucket'],
  })
  // Every node must reach the same alerts, leases and readings: nothing of a node's own disk will do.
  .refine((c) => c.cluster === undefined || c.database !== undefined, {
    message: '--cluster needs a shared PostgreSQL database: --database postgres://... (or ANJU_DATABASE_URL)',
    path: ['database'],
  })
  .refine((c) => c.cluster === undefined || c.influxUrl !== undefined, {
    message:
      '--cluster needs a shared readings store: --influx-url (a SQLite file on one node is no shared store)',
    path: ['influxUrl'],
  })
  .refine((c) => c.influxBucket === undefined || c.influxUrl !== undefined, {
    message: '--influx-bucket needs --influx-url',
    path: ['influxUrl'],
  });
export type ServeConfig = z.infer<typeof ServeConfig>;
export type ServeConfigInput = z.input<typeof ServeConfig>;
