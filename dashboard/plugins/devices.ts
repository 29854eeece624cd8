// Devices: health, firmware, last seen and refused messages for whoever may see them; registering (the
// secret is shown once) and revoking for admins.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_KINDS, ROOMS } from '../../firmware-protocol/index.ts';
import type { Registry } from '../../registry/index.ts';
import { DeviceView, type Views } from '../views.ts';
import { scopeOf } from './access.ts';
import { decodeCursor, KeyText, NextCursor, pageOf, pageQuery } from './paging.ts';
import { HttpProblem } from './problem.ts';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

/** Devices are listed by id. */
const DeviceKey = z.tuple([KeyText.min(1)]);

/** registry's DeviceInput as a request body; the registry checks ids and the resident-or-home rule. */
const DeviceBody = z.strictObject({
  id: z.string().min(3).max(64),
  kind: z.enum(DEVICE_KINDS),
  residentId: z.string().min(1).max(64).optional().meta({ description: 'The wearer, for a wearable.' }),
  homeId: z.string().min(1).max(64).optional().meta({ description: 'The home, for a fixed device.' }),
  room: z.enum(ROOMS).optional(),
  vendor: z.string().max(100).optional(),
  model: z.string().max(100).optional(),
});

export interface DeviceRoutesOptions {
  registry: Registry;
  views: Views;
  /** Cuts off a revoked device's open connection now (gateway.disconnectRevoked). */
  disconnectRevoked(): Promise<void>;
}

export default async function deviceRoutesPlugin(app: FastifyInstance, opts: DeviceRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { registry, views } = opts;

  api.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary:
          'Devices you may see, by id, with battery, firmware, signal, last seen and refused messages, ' +
          'a page at a time',
        description:
          "`q` finds devices by any part of their id, their home's label or address, or the name of the " +
          'wearer or of a resident of the home, ignoring case. Pages continue with `cursor` set to the ' +
          'previous `nextCursor`.',
        querystring: z.strictObject(pageQuery(100)),
        response: { 200: z.object({ devices: z.array(DeviceView), nextCursor: NextCursor }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const { q, limit, cursor } = req.query;
      const found = await registry.findDevices({
        ...(await scope.deviceReach()),
        search: q,
        after: cursor === undefined ? undefined : decodeCursor('devices', DeviceKey, cursor)[0],
        limit: limit + 1,
      });
      const page = pageOf(found, limit, 'devices', (d) => [d.id]);
      // The query kept to the scope already; the scope's own check guards the query.
      return {
        devices: await views.devices(await scope.devicesSeen(page.rows)),
        nextCursor: page.nextCursor,
      };
    },
  );

  api.post(
    '/api/v1/devices',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['devices'],
        summary: 'Register a device; the answer carries its MQTT secret, the only time it is shown',
        body: DeviceBody,
        response: { 201: z.object({ device: DeviceView, secret: z.string() }) },
      },
    },
    async (req, reply) => {
      const { device, secret } = await registry.addDevice(req.body);
      reply.code(201);
      return { device: await views.device(device), secret };
    },
  );

  api.post(
    '/api/v1/devices/:id/revoke',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device: it is disconnected and refused from now on',
        params: IdParams,
        response: { 200: z.object({ device: DeviceView }) },
      },
    },
    async (req) => {
      if (!(await registry.getDevice(req.params.id)))
        throw new HttpProblem(404, `no device ${req.params.id}`);
      const device = await registry.revokeDevice(req.params.id);
      await opts.disconnectRevoked();
      return { device: await views.device(device) };
    },
  );
}
