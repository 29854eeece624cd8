// Puts the caller's Scope on every API request and enforces, before any handler runs, the two checks
// that must never be forgotten route by route: the route's roles, and that a resident, device or alert
// named in the URL is inside the caller's scope. Outside it the answer is 403 whether or not the id
// exists, so guessing ids tells a family member nothing. Admins get each route's own 404 instead.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AlertService } from '../../alerting/alerts/index.ts';
import type { Registry } from '../../registry/index.ts';
import type { Scope, Scopes } from '../accounts/index.ts';
import { HttpProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the caller may see and do; set on every non-public API route. */
    scope?: Scope;
  }
}

export interface AccessOptions {
  prefix: string;
  scopes: Scopes;
  registry: Pick<Registry, 'getDevice'>;
  alerts: Pick<AlertService, 'get'>;
}

/** The caller's scope; only for routes behind the API prefix that are not public. */
export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new Error(`no scope on ${req.method} ${req.url}: is the route public?`);
  return req.scope;
}

export default fp(async function accessPlugin(app: FastifyInstance, opts: AccessOptions) {
  const guards: { prefix: string; sees(scope: Scope, id: string): boolean | Promise<boolean> }[] = [
    { prefix: `${opts.prefix}residents/:id`, sees: (scope, id) => scope.seesResident(id) },
    {
      prefix: `${opts.prefix}devices/:id`,
      sees: async (scope, id) => {
        const device = await opts.registry.getDevice(id);
        return device !== undefined && scope.seesDevice(device);
      },
    },
    {
      prefix: `${opts.prefix}alerts/:id`,
      sees: async (scope, id) => {
        const alert = await opts.alerts.get(id);
        return alert !== undefined && scope.seesAlert(alert);
      },
    },
  ];

  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url;
    if (route === undefined || !route.startsWith(opts.prefix) || req.routeOptions.config.public) return;
    const principal = req.principal ?? (req.token && { kind: 'token' as const, token: req.token });
    if (!principal) throw new HttpProblem(401, 'sign in, or send a bearer token');
    req.principal = principal;
    const scope = await opts.scopes.of(principal);
    req.scope = scope;

    const roles = req.routeOptions.config.roles;
    if (roles && !roles.includes(scope.role)) {
      throw new HttpProblem(403, `only ${roles.join(' or ')} may do this`);
    }
    if (scope.isAdmin) return;
    const id = (req.params as { id?: unknown }).id;
    for (const guard of guards) {
      if (route !== guard.prefix && !route.startsWith(`${guard.prefix}/`)) continue;
      if (typeof id !== 'string' || !(await guard.sees(scope, id))) {
        throw new HttpProblem(403, 'this is outside what you may see');
      }
    }
  });
});
