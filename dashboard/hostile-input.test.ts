// Hostile and careless requests against a real anju serve: each gets a clear problem JSON answer and
// changes nothing. Bad ids, SQL-looking strings, wrong types, unknown fields, oversize and malformed
// bodies, the wrong content type, a missing CSRF token, a forged or expired session.
import { request } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestAnju, type TestAnju } from '../test/harness.ts';
import {
  ADMIN_PASSWORD,
  addCommunity,
  browser,
  json,
  raiseAlert,
  registrySql,
  signedIn,
  signedInAdmin,
  type Browser,
} from './test-support.ts';

let anju: TestAnju;
let admin: Browser;
let family: Browser;
let residentId: string;
let alertId: string;
const SQL = [
  "' OR '1'='1",
  '1; DROP TABLE users; --',
  '" OR ""="',
  "rs_x' UNION SELECT password_hash FROM users --",
];

beforeAll(async () => {
  anju = await startTestAnju({ adminPassword: ADMIN_PASSWORD });
  const north = await addCommunity(anju, 'North');
  residentId = north.residents[0]!.id;
  alertId = (await raiseAlert(anju, residentId)).id;
  admin = await signedInAdmin(anju);
  family = await signedIn(anju, 'family', { residents: [north.residents[1]!.id] });
});
afterAll(async () => {
  await anju.stop();
});

/** A GET with the path exactly as given: fetch and URL would mend a malformed one. */
function rawGet(path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: anju.ports.http, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const body = await json(res);
  expect(body).toMatchObject({ type: 'about:blank', status });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|stack/i);
  return body;
}

async function snapshot() {
  return {
    users: (await anju.accounts.users.list()).map((u) => u.username),
    alert: (await anju.alerting.alerts.get(alertId))!,
    residents: (await anju.registry.listResidents()).map((r) => r.name),
    contacts: (await anju.registry.getResident(residentId))!.contacts.length,
  };
}

let before: Awaited<ReturnType<typeof snapshot>>;
beforeEach(async () => {
  before = await snapshot();
});

async function nothingChanged(): Promise<void> {
  expect(await snapshot()).toEqual(before);
}

describe('bad ids and SQL in the URL', () => {
  it.each(SQL)('answers the id %j with 404 to an admin and 403 to family, changing nothing', async (id) => {
    const path = encodeURIComponent(id);
    await expectProblem(await admin.get(`/api/v1/residents/${path}`), 404);
    await expectProblem(await admin.get(`/api/v1/alerts/${path}`), 404);
    await expectProblem(await admin.post(`/api/v1/alerts/${path}/acknowledge`, {}), 404);
    await expectProblem(await family.get(`/api/v1/residents/${path}`), 403);
    await expectProblem(await family.get(`/api/v1/devices/${path}/latest`), 403);
    const list = await admin.get(`/api/v1/alerts?residentId=${path}`);
    expect((await json<{ alerts: unknown[] }>(list)).alerts).toEqual([]);
    await nothingChanged();
  });

  it('refuses an id longer than any real one', async () => {
    await expectProblem(await admin.get(`/api/v1/residents/${'r'.repeat(65)}`), 400);
    await expectProblem(await admin.get(`/api/v1/alerts?residentId=${'r'.repeat(65)}`), 400);
  });

  it('signs nobody in with SQL as the username or password', async () => {
    for (const text of SQL) {
      await expectProblem(await browser(anju, '127.0.0.20').signIn(`admin${text}`, text), 401);
    }
    await expectProblem(await browser(anju, '127.0.0.21').signIn('admin', "' OR '1'='1"), 401);
  });

  it('stores SQL-looking text as text', async () => {
    const name = "Robert'); DROP TABLE residents;--";
    const res = await admin.post('/api/v1/residents', {
      name,
      address: { community: 'North', compound: 'A', building: '1', home: '999' },
    });
    expect(res.status).toBe(201);
    const { resident } = await json<{ resident: { id: string } }>(res);
    expect((await anju.registry.getResident(resident.id))!.name).toBe(name);
    expect(await anju.registry.listResidents()).toHaveLength(3);
  });
});

describe('bodies', () => {
  it.each([
    ['a number where text belongs', '/api/v1/session', { username: 1, password: ['x'] }],
    ['an unknown outcome', `/api/v1/alerts/ALERT/resolve`, { outcome: 'fixed' }],
    ['an outcome of the wrong type', `/api/v1/alerts/ALERT/resolve`, { outcome: 5 }],
    ['an empty note', `/api/v1/alerts/ALERT/notes`, { note: '   ' }],
    ['a note of 3000 characters', `/api/v1/alerts/ALERT/notes`, { note: 'x'.repeat(3000) }],
    ['an unknown field', `/api/v1/alerts/ALERT/acknowledge`, { note: 'ok', state: 'resolved' }],
    ['an array instead of an object', `/api/v1/alerts/ALERT/acknowledge`, []],
    [
      'a user with a script as username',
      '/api/v1/users',
      { username: '<script>', displayName: 'x', role: 'admin', password: 'long-enough-pw' },
    ],
    [
      'a display name with a terminal escape',
      '/api/v1/users',
      { username: 'escaper', displayName: 'x\u001b[2J', role: 'admin', password: 'long-enough-pw' },
    ],
    ['a note with a NUL', `/api/v1/alerts/ALERT/notes`, { note: 'ok\u0000' }],
    [
      'a resident name with a bidi override',
      '/api/v1/residents',
      {
        name: 'gnp.\u202eexe',
        address: { community: 'North', compound: 'A', building: '1', home: '999' },
      },
    ],
    [
      'a contact with a phone number that is not one',
      `/api/v1/residents/RESIDENT/contacts`,
      { name: '李明', relation: 'family', phone: '1380000', channels: ['sms'] },
    ],
    [
      'a contact name with a line break',
      `/api/v1/residents/RESIDENT/contacts`,
      { name: '李\n明', relation: 'family', phone: '+8613800000000', channels: ['sms'] },
    ],
  ])('answers %s with 400 and where the problem is', async (_what, path, body) => {
    const res = await admin.post(path.replace('ALERT', alertId).replace('RESIDENT', residentId), body);
    const problem = await expectProblem(res, 400);
    expect(Array.isArray(problem.errors) || typeof problem.detail === 'string').toBe(true);
    await nothingChanged();
  });

  it('answers a malformed URL with problem JSON', async () => {
    for (const path of ['/api/v1/residents/%E0%A4%A', '/api/v1/alerts/%C0%AF']) {
      const res = await rawGet(path);
      expect(res.status, path).toBe(400);
      expect(res.type, path).toMatch(/application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ type: 'about:blank', status: 400 });
    }
  });

  it('answers malformed JSON with 400', async () => {
    await expectProblem(
      await admin.request('POST', `/api/v1/alerts/${alertId}/notes`, undefined, {
        raw: '{"note": "unfinished',
      }),
      400,
    );
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const res = await admin.post(`/api/v1/alerts/${alertId}/notes`, { note: 'x'.repeat(70 * 1024) });
    await expectProblem(res, 413);
    await nothingChanged();
  });

  it('refuses form posts and text with 415, the way another site would send them', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await admin.request('POST', `/api/v1/alerts/${alertId}/acknowledge`, undefined, {
        raw: 'note=hi',
        headers: { 'content-type': type },
      });
      await expectProblem(res, 415);
    }
    await nothingChanged();
  });

  it('refuses __proto__ in a JSON body', async () => {
    const res = await admin.request('PUT', `/api/v1/residents/${residentId}/rules`, undefined, {
      raw: '{"overrides": {"__proto__": {"isAdmin": true}}}',
    });
    await expectProblem(res, 400);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it.each([
    ['limit=0'],
    ['limit=100000'],
    ['limit=ten'],
    ['state=closed'],
    ['severity=urgent'],
    ['drop=table'],
  ])('answers the query %s with 400', async (query) => {
    await expectProblem(await admin.get(`/api/v1/alerts?${query}`), 400);
  });
});

describe('sessions and CSRF', () => {
  it('refuses an acknowledgement without the CSRF token, and with a forged cookie', async () => {
    await expectProblem(
      await admin.request('POST', `/api/v1/alerts/${alertId}/acknowledge`, {}, { csrf: false }),
      403,
    );
    const forged = browser(anju);
    forged.cookie = 'A'.repeat(43);
    forged.csrf = admin.csrf;
    await expectProblem(await forged.post(`/api/v1/alerts/${alertId}/acknowledge`, {}), 401);
    forged.cookie = "'; DROP TABLE sessions; --";
    await expectProblem(await forged.get('/api/v1/alerts'), 401);
    await nothingChanged();
  });

  it('answers a request on an expired session with 401', async () => {
    const tab = await signedInAdmin(anju);
    await registrySql(
      anju,
      "UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = 'admin')",
    );
    await expectProblem(await tab.post(`/api/v1/alerts/${alertId}/acknowledge`, {}), 401);
    admin = await signedInAdmin(anju);
    await nothingChanged();
  });
});
