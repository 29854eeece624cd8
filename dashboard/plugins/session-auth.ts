// Browser sessions on the API: the `anju_session` cookie identifies the person; every state-changing
// request must also carry the session's CSRF token in X-CSRF-Token, which a page on another site cannot
// read. A request with an Authorization header is left to bearer-auth; one with neither is refused there.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { csrfMatches, type Accounts, type Principal, type Role, type Session } from '../accounts/index.ts';
import { HttpProblem } from './problem.ts';

export const SESSION_COOKIE = 'anju_session';
export const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser session, when the request came with a live session cookie. */
    session?: Session;
    /** Who is asking: set by session-auth (cookie) or access (bearer token). */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (the sign-in itself). */
    public?: boolean;
    /** Only these roles may call the route; others get 403. */
    roles?: readonly Role[];
    /**
     * For a route naming an id no guard of access.ts knows: why its handler's own check is enough (the
     * route is refused at start-up without one).
     */
    scopedInHandler?: string;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionAuthOptions {
  accounts: Accounts;
}

export function sessionCookieOptions(req: FastifyRequest) {
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure: req.protocol === 'https' };
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(req));
}

/** Registered inside the API's context: its hook runs on the API's routes only. */
export default fp(async function sessionAuthPlugin(app: FastifyInstance, opts: SessionAuthOptions) {
  app.decorateRequest('session', undefined);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.authorization !== undefined) return;
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie === undefined) return;
    const session = await opts.accounts.sessions.find(cookie);
    const user = session && (await opts.accounts.users.get(session.userId));
    if (!session || !user || user.disabledAt !== null) {
      clearSessionCookie(req, reply);
      return;
    }
    req.session = session;
    req.principal = { kind: 'user', user };
    if (SAFE_METHODS.has(req.method) || req.routeOptions.config.public) return;
    const sent = req.headers[CSRF_HEADER];
    if (!csrfMatches(session, typeof sent === 'string' ? sent : undefined)) {
      throw new HttpProblem(403, 'the X-CSRF-Token header is missing or does not match the session');
    }
  });
});
