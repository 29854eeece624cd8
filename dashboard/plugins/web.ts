// Serves the web console built into dashboard/web/dist: hashed assets with a long cache, and index.html
// for every other non-API path, so that /console or /residents/r_1 open the app, which routes itself.
// API paths that match no route keep their problem JSON 404.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { problem } from './problem.ts';

export const WEB_DIST = fileURLToPath(new URL('../web/dist/', import.meta.url));

export interface WebOptions {
  /** The built app; the repository's dashboard/web/dist by default. */
  root?: string;
}

/** Paths the app never owns: an unknown one there is an API 404, not the app. */
const NOT_APP = /^\/(api|socket\.io|metrics|healthz|mqtt)(\/|$)/;
/** Vite puts built files under /assets/, named by content hash, so they never change. */
const ASSET = /^\/assets\/[\w.-]+$/;
const ICON = '/favicon.svg';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Anju</title>
<p>The web console has not been built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it).</p>`;

export default fp(async function webPlugin(app: FastifyInstance, opts: WebOptions) {
  const root = opts.root ?? WEB_DIST;
  // serve: false: only reply.sendFile, confined to root; the route below decides what each path gets.
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/*', { schema: { hide: true } }, (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (NOT_APP.test(path)) {
      return reply
        .code(404)
        .type('application/problem+json')
        .send({ ...problem(404, `no route ${req.method} ${path}`), instance: req.url });
    }
    if (ASSET.test(path)) {
      return reply.sendFile(path.slice(1), { maxAge: '365d', immutable: true });
    }
    if (path === ICON) return reply.sendFile(ICON.slice(1), { maxAge: '1d' });
    if (!existsSync(`${root}/index.html`)) return reply.code(503).type('text/html').send(NOT_BUILT);
    // The shell must never be cached: it names the current hashed assets.
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
});
