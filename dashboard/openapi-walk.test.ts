// Every route of the OpenAPI document, as an admin, with hostile values in every place it takes input:
// path ids, each query parameter (out of range, malformed, huge) and bodies (wrong types, malformed JSON).
// Whatever the route, the answer is a client error or a success, never a 5xx, and the server stays up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './test-app.ts';
import {
  ADMIN_PASSWORD,
  addCommunity,
  json,
  raiseAlert,
  signedInAdmin,
  type Browser,
} from './test-support.ts';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: { type?: string; enum?: unknown[]; minimum?: number };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: unknown;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/** Values no parameter should take: past every bound, not a number, not a time, control characters. */
const HOSTILE = [
  '-1',
  '0',
  '4102444800001',
  '9999-12-31T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  '1e309',
  'NaN',
  'not-a-value',
  "' OR '1'='1",
  '\u0000\u001b[31m',
  'x'.repeat(5000),
  '__proto__',
];
const BODIES: unknown[] = [null, 42, 'text', [], { __proto__: { admin: true } }, { a: 'x'.repeat(10_000) }];

let anju: TestApp;
let admin: Browser;
let ids: Record<string, string>;

beforeAll(async () => {
  anju = await startTestApp({ adminPassword: ADMIN_PASSWORD });
  const north = await addCommunity(anju, 'North');
  const residentId = north.residents[0]!.id;
  const alert = await raiseAlert(anju, residentId);
  await anju.registry.addDevice({ id: 'W-WALK', kind: 'wearable', residentId });
  admin = await signedInAdmin(anju);
  ids = { residentId, alertId: alert.id, communityId: north.id };
});
afterAll(async () => {
  await anju.stop();
});

/** A real id where the route names one, so the route gets past its 404 to its query and body. */
function realPath(template: string): string {
  return template.replace(/\{(\w+)\}|:(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (/alert/i.test(template) && name === 'id') return ids.alertId!;
    if (/resident/i.test(template) && name === 'id') return ids.residentId!;
    if (/communit/i.test(template) && name === 'id') return ids.communityId!;
    return ids[name] ?? 'W-WALK';
  });
}

/** A value each query parameter takes, so one hostile value at a time gets past the others. */
function plausible(p: Parameter): string {
  if (p.schema?.enum?.length) return String(p.schema.enum[0]);
  if (p.name === 'measurement') return 'heartRate';
  if (p.name === 'every') return '1h';
  if (p.schema?.type === 'integer' || p.schema?.type === 'number') return String(p.schema.minimum ?? 1);
  return 'x';
}

function query(params: readonly Parameter[], hostile?: { name: string; value: string }): string {
  const q = new URLSearchParams();
  for (const p of params) if (p.required) q.set(p.name, plausible(p));
  if (hostile) q.set(hostile.name, hostile.value);
  const text = q.toString();
  return text ? `?${text}` : '';
}

describe('every route of the OpenAPI document under hostile input', () => {
  it('answers 4xx or 2xx, never 5xx, and keeps serving', async () => {
    const doc = await json<OpenApi>(await admin.get('/api/openapi.json'));
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path: p, method: method.toUpperCase(), op })),
    );
    expect(routes.length).toBeGreaterThan(20);
    const failures: string[] = [];
    const check = async (method: string, url: string, body?: unknown, raw?: string) => {
      const res = await admin.request(method, url, body, raw === undefined ? {} : { raw });
      if (res.status >= 500) failures.push(`${method} ${url.slice(0, 160)} -> ${res.status}`);
      await res.arrayBuffer();
      requests++;
    };
    let requests = 0;
    for (const { path: template, method, op } of routes) {
      // Leave the session and the admin's own account as they are: the walk must stay signed in.
      if (template.startsWith('/api/v1/session') && method === 'DELETE') continue;
      const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
      const base = realPath(template);
      await check(method, base + query(queryParams));
      for (const value of HOSTILE) {
        const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
        if (pathParams.length > 0) {
          let hostilePath = template;
          for (const p of pathParams)
            hostilePath = hostilePath.replace(`{${p.name}}`, encodeURIComponent(value));
          await check(method, hostilePath + query(queryParams));
        }
        for (const q of queryParams) await check(method, base + query(queryParams, { name: q.name, value }));
      }
      if (method !== 'GET' && method !== 'DELETE') {
        for (const body of BODIES) await check(method, base, body);
        await check(method, base, undefined, '{"unterminated": ');
      }
    }
    expect(requests).toBeGreaterThan(300);
    expect(failures).toEqual([]);
    const health = await admin.get('/healthz');
    expect(health.status).toBeLessThan(500);
  }, 120_000);
});
