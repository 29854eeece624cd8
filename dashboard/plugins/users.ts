// User administration (admins only): who may sign in, with which role and scope, and the login audit.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LoginAuditEntry, User, UserInput, type Accounts } from '../accounts/index.ts';
import { HttpProblem } from './problem.ts';

const ADMIN_ONLY = { roles: ['admin'] as const };

export interface UserRoutesOptions {
  accounts: Accounts;
}

export default async function userRoutesPlugin(app: FastifyInstance, opts: UserRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { accounts } = opts;

  api.get(
    '/api/v1/users',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Every user with role and scope',
        response: { 200: z.object({ users: z.array(User) }) },
      },
    },
    async () => ({ users: await accounts.users.list() }),
  );

  api.post(
    '/api/v1/users',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Create a user: staff with their communities, family with their residents',
        body: UserInput,
        response: { 201: z.object({ user: User }) },
      },
    },
    async (req, reply) => {
      const user = await accounts.users.create(req.body);
      reply.code(201);
      return { user };
    },
  );

  api.post(
    '/api/v1/users/:id/sign-in-failures/clear',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Vouch for a user: failed sign-ins in their name stop holding their account back',
        params: z.strictObject({ id: z.string().min(1).max(64) }),
      },
    },
    async (req, reply) => {
      const user = await accounts.users.get(req.params.id);
      if (!user) throw new HttpProblem(404, 'no such user');
      accounts.clearSignInFailures(user.username);
      reply.code(204);
    },
  );

  const UserParams = z.strictObject({ id: z.string().min(1).max(64) });

  api.post(
    '/api/v1/users/:id/disable',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Disable a user: no more sign-ins, and every session of theirs ends now',
        params: UserParams,
        response: { 200: z.object({ user: User }) },
      },
    },
    async (req) => {
      const principal = req.principal;
      if (principal?.kind === 'user' && principal.user.id === req.params.id)
        throw new HttpProblem(400, 'you cannot disable your own account');
      const target = await accounts.users.get(req.params.id);
      if (!target) throw new HttpProblem(404, 'no such user');
      const activeAdmins = (await accounts.users.list()).filter(
        (u) => u.role === 'admin' && u.disabledAt === null,
      );
      if (target.role === 'admin' && activeAdmins.length <= 1)
        throw new HttpProblem(409, 'the last active admin cannot be disabled');
      return { user: await accounts.disable(target.id) };
    },
  );

  api.post(
    '/api/v1/users/:id/enable',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Let a disabled user sign in again',
        params: UserParams,
        response: { 200: z.object({ user: User }) },
      },
    },
    async (req) => ({ user: await accounts.enable(req.params.id) }),
  );

  api.put(
    '/api/v1/users/:id/password',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: "Set a user's password (forgotten, or compromised): their sessions end",
        params: UserParams,
        body: z.strictObject({ password: z.string().min(1).max(256) }),
      },
    },
    async (req, reply) => {
      const problem = await accounts.resetPassword(req.params.id, req.body.password);
      if (problem) throw new HttpProblem(400, problem);
      reply.code(204);
    },
  );

  api.delete(
    '/api/v1/users/:id/sessions',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'End every session of a user (a lost laptop); they may sign in again',
        params: UserParams,
        response: { 200: z.object({ ended: z.number().int() }) },
      },
    },
    async (req) => {
      if (!(await accounts.users.get(req.params.id))) throw new HttpProblem(404, `no user ${req.params.id}`);
      return { ended: await accounts.sessions.endAllOf(req.params.id) };
    },
  );

  api.delete(
    '/api/v1/users/:id/totp',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: "Turn a user's second factor off (a lost phone); they sign in with the password alone",
        params: UserParams,
      },
    },
    async (req, reply) => {
      await accounts.totpDisable(req.params.id);
      reply.code(204);
    },
  );

  api.get(
    '/api/v1/audit/logins',
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ['users'],
        summary: 'Sign-ins, failed sign-ins, refused bursts and sign-outs, newest first',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: z.object({ entries: z.array(LoginAuditEntry) }) },
      },
    },
    async (req) => ({ entries: await accounts.audit.recent(req.query.limit) }),
  );
}
