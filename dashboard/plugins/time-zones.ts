// Time zones of homes and communities, for admins: the rules judge a home's night and day in its zone (its
// own, else its community's, else the rules' default), and follow a change at once.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HomePath, RegistryError, TimeZone, type Registry } from '../../registry/index.ts';
import { HttpProblem } from './problem.ts';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });
const ZoneBody = z.strictObject({
  timeZone: TimeZone.nullable().meta({ description: 'An IANA time zone; null inherits again.' }),
});

export interface TimeZoneRoutesOptions {
  registry: Pick<Registry, 'getHome' | 'setHomeTimeZone' | 'setCommunityTimeZone'>;
}

export default async function timeZoneRoutesPlugin(app: FastifyInstance, opts: TimeZoneRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { registry } = opts;

  api.put(
    '/api/v1/homes/:id/time-zone',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['homes'],
        summary: "Set a home's own time zone (null follows its community's)",
        params: IdParams,
        body: ZoneBody,
        response: { 200: z.object({ home: HomePath }) },
      },
    },
    async (req) => {
      if (!(await registry.getHome(req.params.id))) throw new HttpProblem(404, `no home ${req.params.id}`);
      return { home: await registry.setHomeTimeZone(req.params.id, req.body.timeZone) };
    },
  );

  api.put(
    '/api/v1/communities/:id/time-zone',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['homes'],
        summary: "Set a community's time zone, followed by its homes without their own",
        params: IdParams,
        body: ZoneBody,
        response: { 200: z.object({ communityId: z.string(), timeZone: z.string().nullable() }) },
      },
    },
    async (req) => {
      try {
        await registry.setCommunityTimeZone(req.params.id, req.body.timeZone);
      } catch (err) {
        if (err instanceof RegistryError && err.code === 'unknown_community')
          throw new HttpProblem(404, `no community ${req.params.id}`);
        throw err;
      }
      return { communityId: req.params.id, timeZone: req.body.timeZone };
    },
  );
}
