// Every HTTP error leaves as RFC 9457 problem JSON, including schema validation failures and 404s, and
// never with a stack trace.
import { isStorageError } from '../../ops/storage-errors.ts';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    ...(detail ? { detail } : {}),
    ...extra,
  };
}

/** An error a route throws to answer with a given status and detail. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    /** A problem type a client acts on (RFC 9457 3.1.1); about:blank when the status says it all. */
    readonly type?: string,
  ) {
    super(detail);
  }
}

/** The password was right; the account also needs a one-time code. The console then asks for one. */
export const SECOND_FACTOR_REQUIRED = 'urn:anju:problem:second-factor-required';

export interface ProblemOptions {
  /** The status of a refusal the domain made (an unknown alert, a conflict, a full disk), if it is one. */
  statusOf?: (err: unknown) => number | undefined;
}

export default fp(async function problemPlugin(app: FastifyInstance, opts: ProblemOptions) {
  app.setErrorHandler((err: FastifyError | HttpProblem, req, reply) => {
    // A write a full or failing disk refused: worth trying again later, not a bug of the server.
    const storage = !(err instanceof HttpProblem) && isStorageError(err);
    const status =
      err instanceof HttpProblem
        ? err.status
        : storage
          ? 503
          : (opts.statusOf?.(err) ?? ('statusCode' in err ? err.statusCode : undefined) ?? 500);
    const body =
      'validation' in err && err.validation
        ? problem(400, err.message, {
            errors: err.validation.map((v) => ({
              path: v.instancePath || String(v.params?.missingProperty ?? ''),
              message: v.message ?? 'invalid',
            })),
          })
        : problem(
            status,
            storage
              ? "Anju's storage is full or failing; nothing was changed. Try again later."
              : status >= 500
                ? 'The server could not handle this request.'
                : err.message,
            err instanceof HttpProblem && err.type ? { type: err.type } : {},
          );
    if (status >= 500) req.log.error({ err }, 'request failed');
    reply
      .code(status)
      .type('application/problem+json')
      .send({ ...body, instance: req.url });
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .type('application/problem+json')
      .send({ ...problem(404, `no route ${req.method} ${req.url.split('?')[0]}`), instance: req.url });
  });
});
