// The configuration of a running Anju, validated in one place whether it comes from flags or environment.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);

export const ServeConfig = z.object({
  dataDir: z.string().min(1),
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
  diskWarnFreeMb: z.coerce.number().min(0).default(512).meta({
    description:
      'Below this much free space (MiB) in the data directory, /healthz warns and staff get a system alert.',
  }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type ServeConfig = z.infer<typeof ServeConfig>;
export type ServeConfigInput = z.input<typeof ServeConfig>;
