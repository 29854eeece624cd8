// Admins link a dashboard account to the resident's contact it stands for (people, not records): from
// then on escalation tells that person the way they chose on the family page. A family member may only
// stand for a contact of a resident they are assigned to.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Accounts } from '../accounts/index.ts';
import type { Registry } from '../../registry/index.ts';
import { HttpProblem } from './problem.ts';

const ADMIN_ONLY = { roles: ['admin'] as const };
const Id = z.string().min(1).max(64);
const ContactLinkView = z.object({ userId: z.string(), contactId: z.string(), linkedAt: z.number().int() });

export interface ContactLinkRoutesOptions {
  accounts: Accounts;
  registry: Pick<Registry, 'getResident'>;
}

export default fp(async function contactLinkRoutes(app: FastifyInstance, opts: ContactLinkRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { accounts, registry } = opts;

  api.get(
    '/api/v1/contact-links',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Which contact each linked account stands for',
        response: { 200: z.object({ links: z.array(ContactLinkView) }) },
      },
    },
    async () => ({ links: await accounts.contactLinks.list() }),
  );

  api.put(
    '/api/v1/users/:id/contact',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: "Link the account to the resident's contact it stands for",
        description:
          'Escalation then tells that person through the channels they chose, outside their quiet hours. ' +
          'A family member may only stand for a contact of a resident they are assigned to; 409 when the ' +
          'account or the contact is linked already.',
        params: z.strictObject({ id: Id }),
        body: z.strictObject({ contactId: Id }),
        response: { 200: z.object({ link: ContactLinkView }) },
      },
    },
    async (req) => {
      const user = await accounts.users.get(req.params.id);
      if (!user) throw new HttpProblem(404, 'no such user');
      if (user.role === 'family') {
        const residents = await Promise.all(user.residents.map((id) => registry.getResident(id)));
        if (!residents.some((r) => r?.contacts.some((c) => c.id === req.body.contactId)))
          throw new HttpProblem(400, 'a family member may only stand for a contact of their own relative');
      }
      return { link: await accounts.contactLinks.link(user.id, req.body.contactId) };
    },
  );

  api.delete(
    '/api/v1/users/:id/contact',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Remove the link: escalation goes back to the contact record alone',
        params: z.strictObject({ id: Id }),
      },
    },
    async (req, reply) => {
      if (!(await accounts.contactLinks.unlink(req.params.id))) throw new HttpProblem(404, 'not linked');
      reply.code(204);
    },
  );
});
