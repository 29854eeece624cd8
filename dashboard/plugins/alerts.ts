// The alert console's API: alerts in the caller's scope, one alert's trail, and taking it on,
// annotating and closing it. Every action is audited by AlertService with the caller as actor.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Ts } from '../../ingest/store/types.ts';
import { multilineText } from '../../registry/text.ts';
import {
  ALERT_STATES,
  AuditEntry,
  Delivery,
  Outcome,
  type AlertService,
} from '../../alerting/alerts/index.ts';
import { Severity } from '../../alerting/signals.ts';
import type { AlertActions } from '../alert-actions.ts';
import { AlertView, Person, RecipientView, type Views } from '../views.ts';
import type { Registry } from '../../registry/index.ts';
import { scopeOf } from './access.ts';
import { decodeCursor, KeyText, NextCursor, pageOf, pageQuery } from './paging.ts';
import { HttpProblem } from './problem.ts';

const Id = z.string().min(1).max(64);
const IdParams = z.strictObject({ id: Id });
const Note = multilineText(2000);

const AlertsQuery = z.strictObject({
  state: z
    .enum([...ALERT_STATES, 'active'])
    .optional()
    .meta({ description: '"active" is open or acknowledged.' }),
  severity: Severity.optional(),
  residentId: Id.optional(),
  since: z.coerce
    .number()
    .pipe(Ts)
    .optional()
    .meta({ description: 'Only alerts updated at or after, Unix ms.' }),
  ...pageQuery(100),
});

/** Where an alert sorts: updated at, then id, both descending. */
const AlertKey = z.tuple([z.number().int().min(0), KeyText.min(1)]);

/** A search matches residents by this many at most; more is not a search a person pages through. */
const MAX_MATCHED_RESIDENTS = 2000;

const AlertBody = z.object({ alert: AlertView });

export interface AlertRoutesOptions {
  alerts: AlertService;
  /** Resolves a search's resident names and home addresses to residents. */
  registry: Pick<Registry, 'findResidents'>;
  views: Views;
  actions: AlertActions;
}

export default fp(async function alertRoutesPlugin(app: FastifyInstance, opts: AlertRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { alerts, views, actions, registry } = opts;

  api.get(
    '/api/v1/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts you may see, most recently changed first, a page at a time',
        description:
          "`q` finds alerts by the resident's name, their home's label or address, or the device id " +
          '(any part, ignoring case). Pages continue with `cursor` set to the previous `nextCursor`; an ' +
          'alert that changes while you page moves to the front and is not shown again further on.',
        querystring: AlertsQuery,
        response: { 200: z.object({ alerts: z.array(AlertView), nextCursor: NextCursor }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const q = req.query;
      if (q.residentId !== undefined && !(await scope.seesResident(q.residentId))) {
        throw new HttpProblem(403, 'this is outside what you may see');
      }
      const after = q.cursor === undefined ? undefined : decodeCursor('alerts', AlertKey, q.cursor);
      // The alert store does not know names or homes: the registry finds whom the search means.
      const matching =
        q.q === undefined
          ? undefined
          : {
              residentIds: (
                await registry.findResidents({
                  ...scope.residentReach(),
                  search: q.q,
                  limit: MAX_MATCHED_RESIDENTS,
                })
              ).map((r) => r.id),
              deviceId: q.q,
            };
      const found = await alerts.list({
        ...scope.alertFilter(),
        ...(q.residentId !== undefined ? { residentIds: [q.residentId] } : {}),
        state: q.state,
        since: q.since,
        severity: q.severity,
        matching,
        after: after && { updatedAt: after[0], id: after[1] },
        limit: q.limit + 1,
      });
      const page = pageOf(found, q.limit, 'alerts', (a) => [a.updatedAt, a.id]);
      return { alerts: await views.alerts(page.rows), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/api/v1/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its audit trail and notification deliveries',
        description: 'Family members get no deliveries: they name other contacts and their addresses.',
        params: IdParams,
        response: {
          200: z.object({
            alert: AlertView,
            history: z.array(AuditEntry),
            deliveries: z.array(Delivery),
            people: z.record(z.string(), Person).meta({ description: 'Who each actor of the history is.' }),
            recipients: z
              .record(z.string(), RecipientView)
              .meta({ description: 'Who each recipient of the deliveries is, by name and relation.' }),
          }),
        },
      },
    },
    async (req) => {
      const alert = await alerts.get(req.params.id);
      if (!alert) throw new HttpProblem(404, `no alert ${req.params.id}`);
      const history = await alerts.history(alert.id);
      const deliveries = scopeOf(req).role === 'family' ? [] : await alerts.deliveries(alert.id);
      const view = await views.alert(alert);
      return {
        alert: view,
        history,
        deliveries,
        // The alert's view also names contacts who acted through a one-tap link.
        people: { ...(await views.people(history.map((e) => e.actor))), ...view.people },
        recipients: await views.recipients(
          alert,
          deliveries.map((d) => d.recipient),
        ),
      };
    },
  );

  api.post(
    '/api/v1/alerts/:id/acknowledge',
    {
      schema: {
        tags: ['alerts'],
        summary:
          'Take the alert on ("I\'m on it"): escalation stops; 409 unless open, or when someone else ' +
          'changed it meanwhile',
        params: IdParams,
        body: z.strictObject({ note: Note.optional() }),
        response: { 200: AlertBody },
      },
    },
    async (req) => ({
      alert: await actions.acknowledge(scopeOf(req), req.params.id, req.body.note),
    }),
  );

  api.post(
    '/api/v1/alerts/:id/resolve',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Close the alert with its outcome; family may not close SOS and fall alerts',
        params: IdParams,
        body: z.strictObject({ outcome: Outcome, note: Note.optional() }),
        response: { 200: AlertBody },
      },
    },
    async (req) => ({
      alert: await actions.resolve(scopeOf(req), req.params.id, req.body.outcome, req.body.note),
    }),
  );

  api.post(
    '/api/v1/alerts/:id/notes',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Add a note to the alert, in any state',
        params: IdParams,
        body: z.strictObject({ note: Note }),
        response: { 200: AlertBody },
      },
    },
    async (req) => ({
      alert: await actions.addNote(scopeOf(req), req.params.id, req.body.note),
    }),
  );
});
