// The API refuses to start with a route whose id no scope check covers: a forgotten check fails closed.
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import type { Scopes } from '../accounts/index.ts';
import access from './access.ts';

/** An API with the access plugin and one route; true once it started. */
async function started(path: string, config: Record<string, unknown> = {}): Promise<boolean> {
  const app = Fastify();
  try {
    await app.register(async (api) => {
      await api.register(access, {
        scopes: {} as Scopes,
        registry: { getDevice: async () => undefined },
        alerts: { get: async () => undefined },
      });
      api.get(path, { config }, async () => ({}));
    });
    await app.ready();
    return true;
  } finally {
    await app.close().catch(() => undefined);
  }
}

it('refuses at start-up a route naming an id that no guard, admin-only role or declared check covers', async () => {
  await expect(started('/api/v1/households/:id')).rejects.toThrow(/no scope check covers/);
});

it('starts with guarded, admin-only, public and self-checking routes', async () => {
  for (const [path, config] of [
    ['/api/v1/residents/:id/trends', {}],
    ['/api/v1/alerts/:id', {}],
    ['/api/v1/users/:id', { roles: ['admin'] }],
    ['/api/v1/links/:id', { public: true }],
    ['/api/v1/communities/:id/report', { roles: ['admin', 'staff'], scopedInHandler: 'checked there' }],
    ['/api/v1/alerts', {}],
  ] as const) {
    await expect(started(path, config), path).resolves.toBe(true);
  }
  // Staff as well as admins: a role list is not a scope check.
  await expect(started('/api/v1/communities/:id', { roles: ['admin', 'staff'] })).rejects.toThrow();
});
