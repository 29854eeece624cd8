import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import problems from './problem.ts';
import web from './web.ts';

describe('web console plugin', () => {
  let root: string;
  let app: FastifyInstance;

  beforeEach(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'anju-web-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><div id="app"></div>');
    writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = Fastify();
    await app.register(problems);
    app.get('/api/v1/known', async () => ({ ok: true }));
    await app.register(web, { root });
  });

  afterEach(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('opens the app at a deep link such as /residents/:id, uncached', async () => {
    for (const url of ['/', '/console', '/residents/r_0123456789abcdef?x=1']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="app">');
    }
  });

  it('serves hashed assets with a year-long immutable cache', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('console.log(1)');
    expect(res.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/assets/missing.js' })).statusCode).toBe(404);
  });

  it('keeps API routes, and answers unknown API paths with problem JSON instead of the app', async () => {
    expect((await app.inject({ url: '/api/v1/known' })).json()).toEqual({ ok: true });
    const res = await app.inject({ url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('never serves files outside the built app', async () => {
    writeFileSync(path.join(path.dirname(root), 'secret.txt'), 'secret');
    const res = await app.inject({ url: '/assets/..%2F..%2Fsecret.txt' });
    expect(res.body).not.toContain('secret');
    rmSync(path.join(path.dirname(root), 'secret.txt'), { force: true });
  });

  it('says how to build the app when it has not been built', async () => {
    rmSync(path.join(root, 'index.html'));
    const res = await app.inject({ url: '/console' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
  });
});
