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
import { AlertView, Person, RecipientView, type Views } from '../views.ts';
import { scopeOf } from './access.ts';
import { answering } from './domain-errors.ts';
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
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const AlertBody = z.object({ alert: AlertView });

export interface AlertRoutesOptions {
  alerts: AlertService;
  views: Views;
}

export default fp(async function alertRoutesPlugin(app: FastifyInstance, opts: AlertRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { alerts, views } = opts;

  api.get(
    '/api/v1/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts you may see, most recently changed first',
        querystring: AlertsQuery,
        response: { 200: z.object({ alerts: z.array(AlertView) }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const q = req.query;
      if (q.residentId !== undefined && !(await scope.seesResident(q.residentId))) {
        throw new HttpProblem(403, 'this is outside what you may see');
      }
      const found = await alerts.list({
        ...scope.alertFilter(),
        ...(q.residentId !== undefined ? { residentIds: [q.residentId] } : {}),
        state: q.state,
        since: q.since,
        // Severity is filtered here, so look further back to still fill the page.
        limit: q.severity ? 1000 : q.limit,
      });
      const wanted = q.severity ? found.filter((a) => a.severity === q.severity).slice(0, q.limit) : found;
      return { alerts: await views.alerts(wanted) };
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
    async (req) => {
      const alert = await answering(() =>
        alerts.acknowledge(req.params.id, scopeOf(req).actor, req.body.note),
      );
      return { alert: await views.alert(alert) };
    },
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
    async (req) => {
      const scope = scopeOf(req);
      const current = await alerts.get(req.params.id);
      if (current && !scope.mayResolve(current)) {
        throw new HttpProblem(403, 'staff close SOS and fall alerts; you may acknowledge it');
      }
      const alert = await answering(() =>
        alerts.resolve(req.params.id, scope.actor, req.body.outcome, req.body.note),
      );
      return { alert: await views.alert(alert) };
    },
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
    async (req) => {
      const alert = await answering(() => alerts.addNote(req.params.id, scopeOf(req).actor, req.body.note));
      return { alert: await views.alert(alert) };
    },
  );
});
