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
  scopes: Scopes;
  registry: Pick<Registry, 'getDevice'>;
  alerts: Pick<AlertService, 'get'>;
}

/** The caller's scope; only for routes behind the API prefix that are not public. */
export function scopeOf(req: FastifyRequest): Scope {
  if (!req.scope) throw new Error(`no scope on ${req.method} ${req.url}: is the route public?`);
  return req.scope;
}

const API = '/api/v1/';

/** Registered inside the API's context, after the sign-in hooks: it runs on the API's routes only. */
export default fp(async function accessPlugin(app: FastifyInstance, opts: AccessOptions) {
  app.decorateRequest('scope', undefined);
  const guards: { prefix: string; sees(scope: Scope, id: string): Promise<boolean> }[] = [
    { prefix: `${API}residents/:id`, sees: (scope, id) => scope.seesResident(id) },
    {
      prefix: `${API}devices/:id`,
      sees: async (scope, id) => {
        const device = await opts.registry.getDevice(id);
        return device !== undefined && (await scope.seesDevice(device));
      },
    },
    {
      prefix: `${API}alerts/:id`,
      sees: async (scope, id) => {
        const alert = await opts.alerts.get(id);
        return alert !== undefined && scope.seesAlert(alert);
      },
    },
  ];

  // Fails closed: a route that names an id in its URL is scoped by a guard above, is for admins alone,
  // or says why its handler's own check is enough; any other is refused when the server starts.
  app.addHook('onRoute', (route) => {
    const config = route.config ?? {};
    if (!route.url.includes(':') || config.public || config.scopedInHandler) return;
    if (guards.some((g) => route.url === g.prefix || route.url.startsWith(`${g.prefix}/`))) return;
    if (config.roles && config.roles.length > 0 && config.roles.every((r) => r === 'admin')) return;
    throw new Error(
      `${String(route.method)} ${route.url} names an id that no scope check covers: give it a guard in ` +
        'access.ts, admin-only roles, or config.scopedInHandler with the reason',
    );
  });

  app.addHook('onRequest', async (req) => {
    const route = req.routeOptions.url;
    if (route === undefined || req.routeOptions.config.public) return;
    const principal = req.principal ?? (req.token && { kind: 'token' as const, token: req.token });
    if (!principal) throw new HttpProblem(401, 'sign in, or send a bearer token');
    req.principal = principal;
    const scope = opts.scopes.of(principal);
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
