// The HTTP side of Anju as one Fastify app made of one plugin per feature. The composition (cli/serve.ts)
// passes in the parts each plugin reads; nothing here opens a database of its own.
//
// Every /api/v1/ request passes, in order: session-auth (cookie and CSRF), bearer-auth (token, unless a
// session already identified the caller or the route is public), access (the caller's Scope, the
// route's roles and the scope of the resident, device or alert named in the URL). Only then do routes run.
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Server as SocketIoServer } from 'socket.io';
import type { AlertService } from '../alerting/alerts/index.ts';
import type { ResidentJudgements } from '../alerting/engine.ts';
import type { EmergencyCards } from '../registry/emergency-cards.ts';
import type { Registry } from '../registry/index.ts';
import { Scopes, type Accounts } from './accounts/index.ts';
import access from './plugins/access.ts';
import alertRoutes from './plugins/alerts.ts';
import contactLinkRoutes from './plugins/contact-links.ts';
import bearerAuth, { type BearerAuthOptions } from './plugins/bearer-auth.ts';
import deviceRoutes from './plugins/devices.ts';
import emergencyCardRoutes from './plugins/emergency-cards.ts';
import homeReadings from './plugins/home-readings.ts';
import homeRoutes from './plugins/homes.ts';
import oneTap from './plugins/one-tap.ts';
import ops, { type OpsOptions } from './plugins/ops.ts';
import problems, { problem } from './plugins/problem.ts';
import readings, { type ReadingsOptions } from './plugins/readings.ts';
import reportRoutes, { type ReportRoutesOptions } from './plugins/reports.ts';
import { trendContext } from './reports/trend-home.ts';
import residentRoutes from './plugins/residents.ts';
import ruleRoutes from './plugins/rules.ts';
import securityHeaders from './plugins/security-headers.ts';
import sessionAuth from './plugins/session-auth.ts';
import sessionRoutes from './plugins/session.ts';
import timeZoneRoutes from './plugins/time-zones.ts';
import userRoutes from './plugins/users.ts';
import web from './plugins/web.ts';
import type { ResidentRuleStore } from '../alerting/resident-rules/index.ts';
import alertSocket from './socket.ts';
import type { Views } from './views.ts';
import { AlertActions } from './alert-actions.ts';
import { statusOf } from './plugins/domain-errors.ts';
import providerCallbacks, { type ProviderCallbacksOptions } from './plugins/provider-callbacks.ts';

export const OPENAPI_PATH = '/api/openapi.json';

/** What the dashboard (console, homes, residents, devices, admin, Socket.IO) reads and acts on. */
export interface DashboardOptions {
  registry: Registry;
  accounts: Accounts;
  alerts: AlertService;
  residentRules: ResidentRuleStore;
  emergencyCards: EmergencyCards;
  /** What the rule engine holds about each resident now (last activity, devices offline, inactivity). */
  judgements: ResidentJudgements;
  /** Alerts, devices and people as the console shows them. */
  views: Views;
  /** The rules file the engine uses, if any: per-resident overrides are checked against it. */
  rulesFile?: string;
  /** The Socket.IO server (attached to this app's HTTP server by the composition). */
  io: SocketIoServer;
  /** Cuts off revoked devices' open MQTT connections now. */
  disconnectRevoked(): Promise<void>;
  /** How often open sockets' sessions are looked up (another process may end them). */
  sessionCheckMs?: number;
  /** The databases community reports read (registry and alert tables); without them, no report routes. */
  reports?: Pick<ReportRoutesOptions, 'registry' | 'alerts' | 'policies'>;
}

export interface HttpAppOptions {
  logger: Logger;
  ops: OpsOptions;
  readings: ReadingsOptions;
  verifyToken: BearerAuthOptions['verify'];
  dashboard: DashboardOptions;
  /** Behind a TLS-terminating proxy: trust its X-Forwarded-* headers (true, or its addresses). */
  trustProxy?: boolean | string[];
  /** Where providers push outcomes (Tencent's call status); no such routes without it. */
  providerCallbacks?: ProviderCallbacksOptions;
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // The API takes small JSON documents; the largest (a resident with an address) is a few KiB.
    bodyLimit: 64 * 1024,
    // Only with trustProxy does a request forwarded as https count as https (and get Secure cookies).
    trustProxy: opts.trustProxy ?? false,
    // Errors Fastify meets before routing (a malformed URL or a bad content-type header) are problems too.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 400;
      void reply.code(status).type('application/problem+json').send(problem(status, err.message));
    },
  });
  // JSON only: a page on another site can post forms and text without asking, but not JSON.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(problems, { statusOf });
  await app.register(securityHeaders);
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Anju HTTP API',
        version: '1.0.0',
        description:
          'Readings, residents, devices, alerts and accounts. Browsers sign in at POST /api/v1/session ' +
          '(cookie, plus the X-CSRF-Token header on state-changing requests); API clients send a bearer token.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'anju_session' },
        },
      },
      security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } } as never, async () => app.swagger());
  await app.register(ops, opts.ops);

  const d = opts.dashboard;
  const scopes = new Scopes(d.registry);
  const views = d.views;
  const actions = new AlertActions(d.alerts, views);
  // The API is one encapsulated context: its sign-in, token and scope hooks run on its routes and on
  // nothing else, so no hook asks of a URL whether it is the API.
  await app.register(async function api(api: FastifyInstance) {
    await api.register(sessionAuth, { accounts: d.accounts });
    await api.register(bearerAuth, { verify: opts.verifyToken });
    await api.register(access, { scopes, registry: d.registry, alerts: d.alerts });

    await api.register(readings, opts.readings);
    await api.register(sessionRoutes, { accounts: d.accounts });
    await api.register(alertRoutes, { alerts: d.alerts, views, actions, registry: d.registry });
    await api.register(homeRoutes, { registry: d.registry, alerts: d.alerts, judgements: d.judgements });
    await api.register(homeReadings, { registry: d.registry, store: opts.readings.store });
    await api.register(residentRoutes, { registry: d.registry, alerts: d.alerts, views });
    await api.register(emergencyCardRoutes, { cards: d.emergencyCards, registry: d.registry, views });
    await api.register(timeZoneRoutes, { registry: d.registry });
    await api.register(ruleRoutes, { registry: d.registry, rules: d.residentRules, rulesFile: d.rulesFile });
    await api.register(deviceRoutes, { registry: d.registry, views, disconnectRevoked: d.disconnectRevoked });
    await api.register(userRoutes, { accounts: d.accounts });
    await api.register(contactLinkRoutes, { accounts: d.accounts, registry: d.registry });
    if (d.reports) {
      await api.register(reportRoutes, {
        ...d.reports,
        store: opts.readings.store,
        residentContext: (id) =>
          trendContext({ registry: d.registry, residentRules: d.residentRules, rulesFile: d.rulesFile }, id),
      });
    }
  });
  // One-tap links from messages: outside the API, their token is their only credential.
  await app.register(oneTap, { alerts: d.alerts, registry: d.registry, views });
  if (opts.providerCallbacks) await app.register(providerCallbacks, opts.providerCallbacks);
  await app.register(alertSocket, {
    io: d.io,
    accounts: d.accounts,
    scopes,
    alerts: d.alerts,
    views,
    actions,
    verifyToken: opts.verifyToken,
    sessionCheckMs: d.sessionCheckMs,
  });
  await app.register(web);
  return app;
}
