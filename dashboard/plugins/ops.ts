// Operations endpoints: /healthz answers whether each part works, /metrics is Prometheus text.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';

/** ok false: the part fails (status degraded, 503). warning: it works but needs attention soon (200). */
export type HealthCheck = () => Promise<{ ok: boolean; warning?: string; detail?: Record<string, unknown> }>;

export interface OpsOptions {
  metrics: Registry;
  checks: Record<string, HealthCheck>;
  /** A check that has not answered by then counts as failed, so a hung peer cannot hang the probe. */
  checkTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 2000;

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export default fp(async function opsPlugin(app: FastifyInstance, opts: OpsOptions) {
  app.get('/healthz', async (_req, reply) => {
    const results = await Promise.all(
      Object.entries(opts.checks).map(async ([name, check]) => {
        try {
          return [name, await withinTime(check(), opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS)] as const;
        } catch (err) {
          return [name, { ok: false, detail: { error: (err as Error).message } }] as const;
        }
      }),
    );
    const ok = results.every(([, r]) => r.ok);
    const warned = results.some(([, r]) => 'warning' in r && r.warning !== undefined);
    const status = !ok ? 'degraded' : warned ? 'warning' : 'ok';
    reply.code(ok ? 200 : 503).send({ status, checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type(opts.metrics.contentType).send(await opts.metrics.metrics());
  });
});
