// The emergency card of a resident over HTTP: read by staff of the community and the resident's family
// (every reading is logged, and the log is part of the answer), written by staff and admins, with a small
// photo uploaded as the image itself and served back as what its bytes are.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONTACT_RELATIONS, type Registry } from '../../registry/index.ts';
import {
  CardAccess,
  EmergencyCard,
  EmergencyCardInput,
  MAX_PHOTO_BYTES,
  PHOTO_TYPES,
  type EmergencyCards,
} from '../../registry/emergency-cards.ts';
import { Person, type Views } from '../views.ts';
import { scopeOf } from './access.ts';
import { HttpProblem } from './problem.ts';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

const CardResponse = z.object({
  card: EmergencyCard,
  resident: z.object({ id: z.string(), name: z.string() }),
  contacts: z.array(
    z.object({ name: z.string(), relation: z.enum(CONTACT_RELATIONS), phone: z.string().nullable() }),
  ),
  access: z.array(CardAccess).meta({ description: 'The latest openings of the card, this one first.' }),
  people: z.record(z.string(), Person).meta({ description: 'Who the actors of `card` and `access` are.' }),
});

export interface EmergencyCardRoutesOptions {
  cards: EmergencyCards;
  registry: Pick<Registry, 'getResident'>;
  views: Pick<Views, 'people'>;
}

/** Not wrapped in fastify-plugin: the image body parser stays with these routes. */
export default async function emergencyCardRoutes(app: FastifyInstance, opts: EmergencyCardRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { cards, registry, views } = opts;
  app.addContentTypeParser(
    [...PHOTO_TYPES],
    { parseAs: 'buffer', bodyLimit: MAX_PHOTO_BYTES },
    (_req, body, done) => done(null, body),
  );

  async function residentOf(id: string) {
    const resident = await registry.getResident(id);
    if (!resident) throw new HttpProblem(404, `no resident ${id}`);
    return resident;
  }

  async function answer(residentId: string) {
    const resident = await residentOf(residentId);
    const card = await cards.get(residentId);
    const access = await cards.accessLog(residentId);
    const actors = [...access.map((a) => a.actor), ...(card.updatedBy ? [card.updatedBy] : [])];
    return {
      card,
      resident: { id: resident.id, name: resident.name },
      contacts: [...resident.contacts]
        .sort((a, b) => a.escalationOrder - b.escalationOrder)
        .map((c) => ({ name: c.name, relation: c.relation, phone: c.phone })),
      access,
      people: await views.people(actors),
    };
  }

  const base = '/api/v1/residents/:id/emergency-card';
  api.get(
    base,
    {
      schema: {
        tags: ['residents'],
        summary: "The resident's emergency card; each reading is recorded in the card's access log",
        params: IdParams,
        response: { 200: CardResponse },
      },
    },
    async (req, reply) => {
      await residentOf(req.params.id);
      await cards.recordAccess(req.params.id, scopeOf(req).actor);
      reply.header('cache-control', 'private, no-store');
      return answer(req.params.id);
    },
  );

  api.put(
    base,
    {
      config: { roles: ['admin', 'staff'] },
      schema: {
        tags: ['residents'],
        summary: 'Write the emergency card whole (a field left out is cleared)',
        params: IdParams,
        body: EmergencyCardInput,
        response: { 200: CardResponse },
      },
    },
    async (req) => {
      await residentOf(req.params.id);
      await cards.put(req.params.id, req.body, scopeOf(req).actor);
      return answer(req.params.id);
    },
  );

  api.put(
    `${base}/photo`,
    {
      config: { roles: ['admin', 'staff'] },
      bodyLimit: MAX_PHOTO_BYTES,
      schema: {
        tags: ['residents'],
        summary: 'Upload the photo on the card: the image itself as image/jpeg or image/png, at most 512 KB',
        params: IdParams,
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await residentOf(req.params.id);
      if (!Buffer.isBuffer(req.body)) throw new HttpProblem(415, 'send the image as image/jpeg or image/png');
      try {
        await cards.putPhoto(req.params.id, req.body, scopeOf(req).actor);
      } catch (err) {
        if (err instanceof RangeError) throw new HttpProblem(400, err.message);
        if (err instanceof TypeError) throw new HttpProblem(415, err.message);
        throw err;
      }
      reply.code(204);
      return null;
    },
  );

  api.get(
    `${base}/photo`,
    {
      schema: {
        tags: ['residents'],
        summary: 'The photo on the card, as image/jpeg or image/png',
        params: IdParams,
      },
    },
    async (req, reply) => {
      await residentOf(req.params.id);
      const photo = await cards.photo(req.params.id);
      if (!photo) throw new HttpProblem(404, 'this card has no photo');
      return reply
        .type(photo.contentType)
        .header('cache-control', 'private, no-store')
        .header('content-disposition', 'inline')
        .send(photo.data);
    },
  );

  api.delete(
    `${base}/photo`,
    {
      config: { roles: ['admin', 'staff'] },
      schema: { tags: ['residents'], summary: 'Remove the photo from the card', params: IdParams },
    },
    async (req, reply) => {
      await residentOf(req.params.id);
      if (!(await cards.deletePhoto(req.params.id))) throw new HttpProblem(404, 'this card has no photo');
      return reply.code(204).send();
    },
  );
}
