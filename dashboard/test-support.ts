// Shared by the dashboard tests: a fetch client that keeps its session cookie and CSRF token the way a
// browser page does, two communities with residents, users of each role, and alerts raised through the
// same AlertService.apply() path the rule engine uses.
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { io as connectSocket, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { AlertService } from '../alerting/alerts/index.ts';
import type { AlertSignal } from '../alerting/signals.ts';
import type { Role } from './accounts/index.ts';
import type { TestAnju } from '../test/harness.ts';
import { REGISTRY_FILE } from '../cli/databases.ts';
import type { Param } from '../database/sql.ts';
import { SqliteDatabase } from '../database/sqlite.ts';

export const ADMIN_PASSWORD = 'correct-horse-battery-42';

/**
 * One statement on the running Anju's registry database through a connection of its own, as another
 * process would: for a test to make time pass (expire a session) or to look at what is stored.
 */
export async function registrySql<T>(anju: UnderTest, text: string, params: Param[] = []): Promise<T[]> {
  const db = SqliteDatabase.open(path.join(anju.dataDir, REGISTRY_FILE));
  try {
    return await db.all<T>(text, params);
  } finally {
    await db.close();
  }
}

/**
 * A browser tab: keeps the anju_session cookie and the CSRF token it was given at sign-in. `localAddress`
 * (any of 127.0.0.0/8) makes it a different client address to the server, for the per-address limits.
 */
export class Browser {
  cookie: string | undefined;
  /** The device token of an earlier correct sign-in in this browser (sent to the sign-in route only). */
  device: string | undefined;
  csrf: string | undefined;

  /** `server`: a base URL to reach over TCP, or an app built in this process, reached with inject(). */
  constructor(
    readonly server: string | FastifyInstance,
    readonly localAddress?: string,
  ) {}

  async signIn(username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await this.request('POST', '/api/v1/session', { username, password }, { headers });
    if (res.ok) {
      const body = (await res.clone().json()) as { csrfToken: string };
      this.csrf = body.csrfToken;
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  post(path: string, body: unknown = {}): Promise<Response> {
    return this.request('POST', path, body);
  }

  put(path: string, body: unknown): Promise<Response> {
    return this.request('PUT', path, body);
  }

  /** Any request; `csrf: false` leaves the X-CSRF-Token header out, `raw` sends a body (text or bytes) as is. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean; headers?: Record<string, string>; raw?: string | Buffer } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    const cookies = [
      this.cookie && `anju_session=${this.cookie}`,
      this.device && path.startsWith('/api/v1/session') && `anju_device=${this.device}`,
    ].filter(Boolean);
    if (cookies.length > 0) headers.cookie = cookies.join('; ');
    if (this.csrf && options.csrf !== false) headers['x-csrf-token'] = this.csrf;
    let payload: string | Buffer | undefined = options.raw;
    if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) {
      headers['content-type'] ??= 'application/json';
      // As a browser does: Node sends a DELETE body without a length otherwise.
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const res =
      typeof this.server === 'string'
        ? await send(new URL(path, this.server), method, headers, payload, this.localAddress)
        : await inject(this.server, path, method, headers, payload, this.localAddress);
    for (const line of res.headers.getSetCookie()) {
      const match = /^anju_session=([^;]*)/.exec(line);
      if (match) this.cookie = match[1] || undefined;
      const device = /^anju_device=([^;]*)/.exec(line);
      if (device) this.device = device[1] || undefined;
    }
    return res;
  }
}

/** A plain HTTP request answered as a fetch Response; node:http because fetch cannot pick a source address. */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  localAddress: string | undefined,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
            out.append(name, v);
        }
        const status = res.statusCode ?? 0;
        const content = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(content, { status, headers: out }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same request through Fastify's inject(), answered as a fetch Response; `localAddress` is the client's. */
async function inject(
  app: FastifyInstance,
  path: string,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  localAddress: string | undefined,
): Promise<Response> {
  const res = await app.inject({
    method: method as InjectOptions['method'],
    url: path,
    headers,
    ...(body !== undefined && { payload: body }),
    remoteAddress: localAddress ?? '127.0.0.1',
  });
  const out = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      out.append(name, String(v));
  }
  const content = res.statusCode === 204 || res.statusCode === 304 ? null : res.rawPayload;
  return new Response(content, { status: res.statusCode, headers: out });
}

/**
 * What the helpers need of the server under test: the whole product started over TCP (test/harness.ts)
 * or the dashboard's app alone, built in this process (test-app.ts).
 */
export type UnderTest = Pick<TestAnju, 'registry' | 'accounts' | 'dataDir'> & {
  alerting: { alerts: AlertService };
} & ({ ports: { http: number } } | { http: FastifyInstance });

export function browser(anju: UnderTest, localAddress?: string): Browser {
  return new Browser('ports' in anju ? `http://127.0.0.1:${anju.ports.http}` : anju.http, localAddress);
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export interface Community {
  id: string;
  residents: { id: string; name: string; homeId: string }[];
}

let homeCounter = 0;

/** A community with `n` residents, one per home. */
export async function addCommunity(anju: UnderTest, name: string, n = 2): Promise<Community> {
  const residents = [];
  for (let i = 0; i < n; i++) {
    homeCounter += 1;
    const r = await anju.registry.addResident({
      name: `${name} resident ${i + 1}`,
      livesAlone: true,
      address: { community: name, compound: 'A', building: '1', home: `${homeCounter}01` },
    });
    residents.push({ id: r.id, name: r.name, homeId: r.home.homeId });
  }
  return { id: (await anju.registry.getResident(residents[0]!.id))!.home.communityId, residents };
}

let userCounter = 0;

/** Creates a user and returns a browser signed in as them. */
export async function signedIn(
  anju: UnderTest,
  role: Role,
  scope: { communities?: string[]; residents?: string[] } = {},
): Promise<Browser & { userId: string; username: string; password: string }> {
  userCounter += 1;
  const username = `${role}-${userCounter}`;
  const password = `password-${userCounter}-long`;
  const user = await anju.accounts.users.create({
    username,
    displayName: `${role} ${userCounter}`,
    role,
    password,
    communities: scope.communities ?? [],
    residents: scope.residents ?? [],
  });
  const tab = browser(anju);
  const res = await tab.signIn(username, password);
  if (!res.ok) throw new Error(`sign-in as ${username} failed: ${res.status}`);
  return Object.assign(tab, { userId: user.id, username, password });
}

export async function signedInAdmin(anju: UnderTest): Promise<Browser> {
  const tab = browser(anju);
  const res = await tab.signIn('admin', ADMIN_PASSWORD);
  if (!res.ok) throw new Error(`admin sign-in failed: ${res.status}`);
  return tab;
}

/** Communities North and South, and who most scope tests sign in as. */
export interface NorthAndSouth {
  north: Community;
  south: Community;
  staffNorth: Browser;
  /** Family of North's first resident. */
  family: Browser;
  admin: Browser;
}

export async function northAndSouth(
  anju: UnderTest,
  residents = { north: 2, south: 2 },
): Promise<NorthAndSouth> {
  const north = await addCommunity(anju, 'North', residents.north);
  const south = await addCommunity(anju, 'South', residents.south);
  return {
    north,
    south,
    staffNorth: await signedIn(anju, 'staff', { communities: [north.id] }),
    family: await signedIn(anju, 'family', { residents: [north.residents[0]!.id] }),
    admin: await signedInAdmin(anju),
  };
}

/** Raises an alert the way the rule engine does; returns the alert. */
export async function raiseAlert(anju: UnderTest, residentId: string, overrides: Partial<AlertSignal> = {}) {
  const change = await anju.alerting.alerts.apply({
    action: 'raise',
    residentId,
    ruleId: 'event.sos',
    severity: 'critical',
    at: Date.now(),
    deviceId: null,
    summary: 'SOS button pressed',
    evidence: {},
    autoClear: false,
    ...overrides,
  });
  if (!change) throw new Error('a raise always changes an alert');
  return change.alert;
}

/** A Socket.IO client connected as `tab` (its cookie) or with a bearer token; rejects on connect_error. */
export function openSocket(
  anju: TestAnju,
  auth: { tab: Browser } | { token: string } | Record<string, never>,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  const socket = connectSocket(`http://127.0.0.1:${anju.ports.http}`, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...('tab' in auth && auth.tab.cookie
      ? { extraHeaders: { cookie: `anju_session=${auth.tab.cookie}` } }
      : {}),
    ...('token' in auth ? { auth: { token: auth.token } } : {}),
    ...options,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Collects every event of these names a socket receives. */
export function record(socket: Socket, events: readonly string[]): { event: string; payload: unknown }[] {
  const seen: { event: string; payload: unknown }[] = [];
  for (const event of events) socket.on(event, (payload: unknown) => seen.push({ event, payload }));
  return seen;
}
