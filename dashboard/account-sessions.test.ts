// Ending sessions wholesale: your own elsewhere (keeping this one), and an admin ending a user's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import { ADMIN_PASSWORD, browser, json, signedIn, signedInAdmin } from './test-support.ts';

let anju: TestApp;

beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
});
afterAll(async () => {
  await anju.stop();
});

describe('ending sessions', () => {
  it('DELETE /api/v1/me/sessions ends every other session of yours and keeps this one', async () => {
    const here = await signedIn(anju, 'staff');
    const laptop = browser(anju);
    expect((await laptop.signIn(here.username, here.password)).status).toBe(200);
    const res = await here.request('DELETE', '/api/v1/me/sessions');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ended: 1 });
    expect((await laptop.get('/api/v1/session')).status).toBe(401);
    expect((await here.get('/api/v1/session')).status).toBe(200);
  });

  it("lets an admin end a user's sessions, and nobody else", async () => {
    const user = await signedIn(anju, 'staff');
    const other = await signedIn(anju, 'staff');
    expect((await other.request('DELETE', `/api/v1/users/${user.userId}/sessions`)).status).toBe(403);
    const admin = await signedInAdmin(anju);
    const res = await admin.request('DELETE', `/api/v1/users/${user.userId}/sessions`);
    expect(await json(res)).toEqual({ ended: 1 });
    expect((await user.get('/api/v1/session')).status).toBe(401);
    expect((await admin.request('DELETE', '/api/v1/users/us_nobody/sessions')).status).toBe(404);
    const bad = await admin.request('DELETE', `/api/v1/users/${'x'.repeat(65)}/sessions`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
