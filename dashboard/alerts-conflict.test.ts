// Two people act on one alert at the same moment through the HTTP API, on PostgreSQL where their
// requests really overlap (each on its own connection): one acknowledge, one resolve. One wins; the other
// gets 409 with a problem document saying the alert changed meanwhile, and nothing of it is written.
// The alert routes run as in the console, with their problem handling, over a real AlertService.
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ALERTS_SCHEMA } from '../alerting/alerts/migrations.ts';
import { AlertService } from '../alerting/alerts/service.ts';
import { raise, T0 } from '../alerting/alerts/test-support.ts';
import { migrate } from '../database/migrations.ts';
import { PostgresDatabase } from '../database/postgres.ts';
import { startPostgres, type PostgresServer } from '../test/postgres.ts';
import { Scope } from './accounts/scope.ts';
import alertRoutes from './plugins/alerts.ts';
import problems from './plugins/problem.ts';
import { statusOf } from './plugins/domain-errors.ts';
import { AlertActions } from './alert-actions.ts';
import { Views } from './views.ts';

let server: PostgresServer;
let db: PostgresDatabase;
let alerts: AlertService;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase();
  db = new PostgresDatabase(url);
  await migrate(db, [ALERTS_SCHEMA]);
  alerts = await AlertService.open({ db, clock: { now: () => T0 } });
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(problems, { statusOf });
  // An operator's API token: an admin's scope, so that only the race decides the answers.
  const registry = {
    getResident: async () => undefined,
    getHome: async () => undefined,
    findResidents: async () => [],
  };
  app.addHook('onRequest', async (req) => {
    req.scope = new Scope(
      {
        kind: 'token',
        token: { id: 'tk_ops', name: 'ops', role: 'admin', createdAt: T0, lastUsedAt: null, revokedAt: null },
      },
      registry,
    );
  });
  const views = new Views({
    registry,
    store: { latest: async () => [], latestByDevice: async () => new Map() },
    refusals: () => ({}),
  });
  await app.register(alertRoutes, { alerts, views, registry, actions: new AlertActions(alerts, views) });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await alerts?.close();
  await db?.close();
  await server?.stop();
});

it('answers 409 with a problem document to the one of two racing requests that lost', async () => {
  const { alert } = (await alerts.apply(raise({ residentId: 'rs_race' })))!;
  // Holding the alert's row makes both requests read it open and then wait to write; released, the first
  // writes and the second finds the state it decided on gone.
  const { requests } = await db.transaction(async (tx) => {
    await tx.one('SELECT id FROM alerts WHERE id = ? FOR UPDATE', [alert.id]);
    const requests = Promise.all([
      app.inject({ method: 'POST', url: `/api/v1/alerts/${alert.id}/acknowledge`, payload: {} }),
      app.inject({
        method: 'POST',
        url: `/api/v1/alerts/${alert.id}/resolve`,
        payload: { outcome: 'other' },
      }),
    ]);
    for (let waiting = 0; waiting < 2;) {
      await new Promise((r) => setTimeout(r, 50));
      const row = await db.one<{ n: number }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      waiting = row!.n;
    }
    return { requests }; // wrapped: the transaction must commit before they can finish
  });
  const responses = await requests;
  const statuses = responses.map((r) => r.statusCode).sort();
  expect(statuses).toEqual([200, 409]);
  const lost = responses.find((r) => r.statusCode === 409)!;
  expect(lost.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(lost.json()).toMatchObject({
    status: 409,
    detail: expect.stringMatching(/changed by someone else/) as string,
  });
  const won = responses.find((r) => r.statusCode === 200)!.json<{ alert: { state: string } }>();
  expect((await alerts.get(alert.id))!.state).toBe(won.alert.state);
  expect((await alerts.history(alert.id)).map((e) => e.action)).toHaveLength(2);
}, 60_000);
