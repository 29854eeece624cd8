// Residents: the list and the resident page (profile, contacts, devices, recent alerts) for whoever may
// see them; registering residents and their contacts for admins.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlertService } from '../../alerting/alerts/index.ts';
import {
  CONTACT_CHANNELS,
  CONTACT_RELATIONS,
  Contact,
  Resident,
  ResidentInput,
  residentKey,
  type Registry,
} from '../../registry/index.ts';
import { AlertView, DeviceView, type Views } from '../views.ts';
import { scopeOf } from './access.ts';
import { decodeCursor, KeyText, NextCursor, pageOf, pageQuery } from './paging.ts';
import { HttpProblem } from './problem.ts';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

/** The contact fields of registry's ContactInput; the resident comes from the URL, the rest is checked there. */
const ContactBody = z.strictObject({
  name: z.string().min(1).max(100),
  relation: z.enum(CONTACT_RELATIONS),
  phone: z.string().max(32).optional(),
  email: z.string().max(254).optional(),
  channels: z.array(z.enum(CONTACT_CHANNELS)).max(CONTACT_CHANNELS.length).optional(),
  escalationOrder: z.number().int().min(1).max(99).optional(),
});

const RECENT_ALERTS = 50;

/** registry's ResidentKey (region, community, compound, building, home, name, id) as a cursor holds it. */
const ResidentCursorKey = z.tuple([KeyText, KeyText, KeyText, KeyText, KeyText, KeyText, KeyText]);

export interface ResidentRoutesOptions {
  registry: Registry;
  alerts: Pick<AlertService, 'list'>;
  views: Views;
}

export default async function residentRoutesPlugin(app: FastifyInstance, opts: ResidentRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { registry, alerts, views } = opts;

  api.get(
    '/api/v1/residents',
    {
      schema: {
        tags: ['residents'],
        summary: 'Residents you may see, by community, compound, building and home, a page at a time',
        description:
          "`q` finds residents by any part of their name or their home's label or address, ignoring " +
          'case. Pages continue with `cursor` set to the previous `nextCursor`.',
        querystring: z.strictObject(pageQuery(100)),
        response: { 200: z.object({ residents: z.array(Resident), nextCursor: NextCursor }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const { q, limit, cursor } = req.query;
      const found = await registry.findResidents({
        ...scope.residentReach(),
        search: q,
        after: cursor === undefined ? undefined : decodeCursor('residents', ResidentCursorKey, cursor),
        limit: limit + 1,
      });
      const page = pageOf(found, limit, 'residents', residentKey);
      // The query kept to the scope already; asking the scope again costs nothing and guards the query.
      return { residents: page.rows.filter((r) => scope.seesResidentRecord(r)), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/api/v1/residents/:id',
    {
      schema: {
        tags: ['residents'],
        summary: 'The resident page: profile with home, contacts, devices and the 50 latest alerts',
        params: IdParams,
        response: {
          200: z.object({
            resident: Resident,
            contacts: z.array(Contact),
            devices: z.array(DeviceView),
            alerts: z.array(AlertView),
          }),
        },
      },
    },
    async (req) => {
      const found = await registry.getResident(req.params.id);
      if (!found) throw new HttpProblem(404, `no resident ${req.params.id}`);
      const { contacts, ...resident } = found;
      const scope = scopeOf(req);
      // The devices of the home as well as the resident's own wearable: the gas sensor is theirs too.
      const devices = (await registry.listDevices({ homeId: resident.home.homeId })).filter(
        (d) => d.residentId === null || d.residentId === resident.id,
      );
      return {
        resident,
        contacts,
        devices: await views.devices(await scope.devicesSeen(devices)),
        alerts: await views.alerts(await alerts.list({ residentIds: [resident.id], limit: RECENT_ALERTS })),
      };
    },
  );

  api.post(
    '/api/v1/residents',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['residents'],
        summary: 'Register a resident; the community, compound, building and home are created by name',
        body: ResidentInput,
        response: { 201: z.object({ resident: Resident }) },
      },
    },
    async (req, reply) => {
      const resident = await registry.addResident(req.body);
      reply.code(201);
      return { resident };
    },
  );

  api.post(
    '/api/v1/residents/:id/contacts',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['residents'],
        summary: 'Add a contact to call when this resident needs help',
        params: IdParams,
        body: ContactBody,
        response: { 201: z.object({ contact: Contact }) },
      },
    },
    async (req, reply) => {
      if (!(await registry.getResident(req.params.id)))
        throw new HttpProblem(404, `no resident ${req.params.id}`);
      const contact = await registry.addContact({ ...req.body, residentId: req.params.id });
      reply.code(201);
      return { contact };
    },
  );
}
