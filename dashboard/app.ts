// The HTTP side of Anju as one Fastify app made of one plugin per feature. The composition (cli/serve.ts)
// passes in the parts each plugin reads; nothing here opens a database of its own.
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import bearerAuth, { type BearerAuthOptions } from './plugins/bearer-auth.ts';
import ops, { type OpsOptions } from './plugins/ops.ts';
import problems from './plugins/problem.ts';
import readings, { type ReadingsOptions } from './plugins/readings.ts';
import web from './plugins/web.ts';

export const OPENAPI_PATH = '/api/openapi.json';

export interface HttpAppOptions {
  logger: Logger;
  ops: OpsOptions;
  readings: ReadingsOptions;
  verifyToken: BearerAuthOptions['verify'];
}

export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(problems);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Anju HTTP API',
        version: '1.0.0',
        description: 'Readings, residents, devices and alerts.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } } as never, async () => app.swagger());
  await app.register(ops, opts.ops);
  await app.register(bearerAuth, { verify: opts.verifyToken, prefix: '/api/v1/' });
  await app.register(readings, opts.readings);
  await app.register(web);
  return app;
}
