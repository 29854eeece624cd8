// The dashboard's HTTP app built in this process, as cli/serve.ts builds it, over fresh SQLite databases
// but without the gateway, the journal or a listening port: a test of a route sends its requests with
// app.inject() (through test-support's Browser). Tests of MQTT, Socket.IO or the process itself start the
// whole product instead (test/harness.ts); nothing here imports it, so a route test loads no gateway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { AlertService } from '../alerting/alerts/service.ts';
import { registryDirectory } from '../alerting/alerts/directory.ts';
import { withPeople } from '../alerting/alerts/people.ts';
import { RuleEngine } from '../alerting/engine.ts';
import { loadNotifications, notificationChannels } from '../alerting/notifications.ts';
import { registryContext } from '../alerting/resident-context.ts';
import { ruleSetWith } from '../alerting/resident-rules/document.ts';
import { ResidentRuleStore } from '../alerting/resident-rules/index.ts';
import { openDatabases } from '../cli/databases.ts';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.ts';
import { EmergencyCards } from '../registry/emergency-cards.ts';
import { Registry } from '../registry/index.ts';
import { Accounts, ensureFirstAdmin } from './accounts/index.ts';
import { buildHttpApp } from './app.ts';
import { SocketIoChannel } from './live/socketio-channel.ts';
import { createSocketServer } from './socket.ts';
import { ADMIN_PASSWORD } from './test-support.ts';
import { Views } from './views.ts';

export interface TestApp {
  dataDir: string;
  registry: Registry;
  accounts: Accounts;
  alerting: { alerts: AlertService };
  /** Not listening: requests go in with inject(). */
  http: FastifyInstance;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /** The first admin's password; test-support's ADMIN_PASSWORD when not given. */
  adminPassword?: string;
  trustProxy?: boolean | string[];
  /** Escalation policies, channels and one-tap links, as `anju serve --notifications`. */
  notificationsFile?: string;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'anju-app-test-'));
  const logger = pino({ level: 'silent' });
  const dbs = await openDatabases({ dataDir });
  const registry = new Registry(dbs.registry);
  const context = registryContext(registry);
  await context.ready;
  const accounts = new Accounts(dbs.registry);
  const store = new SqliteTelemetryStore({ dataDir });
  const views = new Views({
    registry,
    known: context,
    store,
    refusals: () => ({}),
    user: (id) => accounts.users.get(id),
  });
  // Never attached to a server (so never closed): the console's escalation reminders reach no one.
  const io = createSocketServer();
  const notifications = loadNotifications(options.notificationsFile);
  const alerts = await AlertService.open({
    db: dbs.alerts,
    directory: withPeople(registryDirectory(registry, context), accounts.contactLinks),
    channels: [
      new SocketIoChannel(io, { view: (alert) => views.alert(alert) }),
      ...notificationChannels(notifications),
    ],
    policies: notifications.escalation,
    ...(notifications.links && {
      links: { baseUrl: notifications.links.baseUrl, ttlMs: notifications.links.ttlHours * 3_600_000 },
    }),
  });
  const residentRules = new ResidentRuleStore(dbs.registry);
  const engine = new RuleEngine({ context, rules: ruleSetWith(undefined, await residentRules.all()) });
  await ensureFirstAdmin(accounts.users, {
    password: options.adminPassword ?? ADMIN_PASSWORD,
    announce: () => undefined,
  });
  const http = await buildHttpApp({
    logger,
    ops: { metrics: new MetricsRegistry(), checks: {} },
    readings: {
      store,
      deviceExists: async (id) => (await registry.getDevice(id)) !== undefined,
      residentExists: async (id) => (await registry.getResident(id)) !== undefined,
    },
    verifyToken: (token) => registry.tokens.verify(token),
    trustProxy: options.trustProxy,
    dashboard: {
      registry,
      accounts,
      alerts,
      residentRules,
      emergencyCards: new EmergencyCards(dbs.registry),
      judgements: engine,
      views,
      io,
      disconnectRevoked: async () => undefined, // no gateway, so no device connections to cut
      reports: { registry: dbs.registry, alerts: dbs.alerts, policies: notifications.escalation },
    },
  });
  await http.ready();
  return {
    dataDir,
    registry,
    accounts,
    alerting: { alerts },
    http,
    stop: async () => {
      await http.close();
      await alerts.close();
      await store.close();
      await registry.close();
      await dbs.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
