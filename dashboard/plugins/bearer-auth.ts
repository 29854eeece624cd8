// Every API route needs `Authorization: Bearer <token>` unless a browser session (session-auth, which
// runs first) already identified the caller or the route is public; the token's record is put on the
// request.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiToken } from '../../registry/tokens.ts';
import { HttpProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    token?: ApiToken;
  }
}

export interface BearerAuthOptions {
  verify(token: string): Promise<ApiToken | undefined>;
}

/** Registered inside the API's context, after session-auth: its hook runs on the API's routes only. */
export default fp(async function bearerAuthPlugin(app: FastifyInstance, opts: BearerAuthOptions) {
  app.decorateRequest('token', undefined);
  app.addHook('onRequest', async (req: FastifyRequest, reply) => {
    if (req.principal || req.routeOptions.config.public) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? await opts.verify(match[1]!) : undefined;
    if (!token) {
      reply.header('WWW-Authenticate', 'Bearer realm="anju"');
      throw new HttpProblem(401, match ? 'the bearer token is not valid' : 'sign in, or send a bearer token');
    }
    req.token = token;
  });
});
