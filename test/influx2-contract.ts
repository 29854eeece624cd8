// A stand-in for the parts of InfluxDB 2.x that cannot run here (Debian ships 1.6.7): the v2 write API
// (/api/v2/write), the bucket and DBRP APIs, /api/v2/delete and token authentication, as InfluxData's API
// reference documents them. It stores nothing itself: writes are forwarded, body as received (after gzip),
// to a real influxd's /write, and reads to its /query, so what is stored and read back is the real 1.6.7's
// doing. Tests can script the next write answers (429, 503, 401, ...) and see every request received.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { aroundTests } from './around-tests.ts';

export interface ContractOptions {
  /** Base URL of the real influxd that stores what is written. */
  influxdUrl: string;
  org?: string;
  token?: string;
  /** Decompressed write bodies larger than this are answered 413. */
  maxBodyBytes?: number;
  /**
   * `3.x`: the v2 write API ignores the organization, /query reads a database by its own name, and there
   * is no bucket, DBRP or delete API (404 without a v2 JSON error), as InfluxDB 3 Core documents it.
   */
  flavour?: '2.x' | '3.x';
}

export interface ReceivedWrite {
  params: URLSearchParams;
  authorization: string | undefined;
  contentEncoding: string | undefined;
  /** The decompressed body, split into lines. */
  lines: string[];
  status: number;
  at: number;
  /** What the real influxd said when it did not store the body. */
  error?: string;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface DbrpMapping {
  id: string;
  orgID: string;
  bucketID: string;
  database: string;
  retention_policy: string;
  default: boolean;
}

export interface InfluxV2Contract {
  url: string;
  org: string;
  token: string;
  writes: ReceivedWrite[];
  dbrps: DbrpMapping[];
  /** Answers for the next write requests instead of forwarding them, in order. */
  script(...answers: ScriptedAnswer[]): void;
  /** Forgets the scripted answers not used yet. */
  clearScript(): void;
  /** Called as each write request arrives, before it is answered. */
  onWrite: ((write: ReceivedWrite) => void) | undefined;
  /** What an operator does once: `influx bucket create` (here: a database on the real influxd). */
  createBucket(name: string): Promise<string>;
  close(): Promise<void>;
}

const ORG_ID = '0000000000000001';
const PRECISIONS: Record<string, string> = { ns: 'ns', us: 'u', ms: 'ms', s: 's' };

/**
 * Splits a line protocol body into lines: a newline ends a line except inside a double-quoted string field
 * value, where it belongs to the value. Quotes count only where a field value starts (tag values and keys
 * may hold them literally); a backslash escapes the next character everywhere.
 */
export function splitLines(body: string): string[] {
  const lines: string[] = [];
  let start = 0;
  let section = 0; // 0: measurement and tags, 1: fields, 2: timestamp
  let inKey = true;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (inString) inString = c !== '"';
    else if (c === '\n') {
      if (i > start) lines.push(body.slice(start, i));
      start = i + 1;
      section = 0;
      inKey = true;
    } else if (c === ' ') section++;
    else if (section === 1 && inKey && c === '=') {
      inKey = false;
      inString = body[i + 1] === '"';
      if (inString) i++;
    } else if (section === 1 && c === ',') inKey = true;
  }
  if (start < body.length) lines.push(body.slice(start));
  return lines;
}

export async function startInfluxV2Contract(options: ContractOptions): Promise<InfluxV2Contract> {
  const org = options.org ?? 'anju-test-org';
  const token = options.token ?? 'anju-test-token-3f9a';
  const buckets = new Map<string, string>(); // name -> id
  const dbrps: DbrpMapping[] = [];
  const writes: ReceivedWrite[] = [];
  const scripted: ScriptedAnswer[] = [];
  let ids = 0;
  let contract: InfluxV2Contract | undefined = undefined;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: ServerResponse, message: string) => json(res, 404, { code: 'not found', message });
  const authorized = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization === `Token ${token}`) return true;
    json(res, 401, { code: 'unauthorized', message: 'unauthorized access' });
    return false;
  };
  const v3 = options.flavour === '3.x';
  const orgMatches = (params: URLSearchParams, res: ServerResponse) => {
    if (v3) return true;
    const given = params.get('org') ?? params.get('orgID');
    if (given === org || given === ORG_ID) return true;
    if (given === null) json(res, 400, { code: 'invalid', message: 'Please provide either orgID or org' });
    else notFound(res, `organization name "${given}" not found`);
    return false;
  };

  async function influxd(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${options.influxdUrl}${path}`, init);
  }

  async function write(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, raw: Buffer) {
    if (!authorized(req, res) || !orgMatches(params, res)) return;
    const bucket = params.get('bucket');
    if (!bucket || !buckets.has(bucket)) return notFound(res, `bucket "${bucket}" not found`);
    const precision = PRECISIONS[params.get('precision') ?? 'ns'];
    if (!precision) return json(res, 400, { code: 'invalid', message: 'invalid precision' });
    let body: Buffer;
    try {
      body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    } catch {
      return json(res, 400, { code: 'invalid', message: 'unable to decompress request body' });
    }
    const record: ReceivedWrite = {
      params,
      authorization: req.headers.authorization,
      contentEncoding: req.headers['content-encoding'],
      lines: splitLines(body.toString('utf8')),
      status: 0,
      at: Date.now(),
    };
    writes.push(record);
    contract?.onWrite?.(record);
    const answer = scripted.shift();
    if (answer) {
      record.status = answer.status;
      if (answer.body === undefined) {
        res.writeHead(answer.status, answer.headers);
        return res.end();
      }
      return json(res, answer.status, answer.body, answer.headers);
    }
    if (options.maxBodyBytes !== undefined && body.length > options.maxBodyBytes) {
      record.status = 413;
      return json(res, 413, {
        code: 'request too large',
        message: 'unable to read data: http: request body too large',
      });
    }
    const stored = await influxd(`/write?${new URLSearchParams({ db: bucket, precision })}`, {
      method: 'POST',
      body,
    });
    const text = await stored.text();
    if (stored.status === 204) {
      record.status = 204;
      res.writeHead(204);
      return res.end();
    }
    const message = (JSON.parse(text) as { error?: string }).error ?? text;
    record.error = message;
    if (stored.status !== 400) {
      // Not an answer about the points: pass the failure on as a server error.
      record.status = stored.status >= 500 ? stored.status : 500;
      return json(res, record.status, { code: 'internal error', message });
    }
    // 2.x: 422 when points were rejected for what they hold (type conflict, retention), 400 when unparsable.
    record.status = /unable to parse/.test(message) ? 400 : 422;
    json(res, record.status, { code: record.status === 400 ? 'invalid' : 'unprocessable entity', message });
  }

  /** The v1-compatible /write: a database and retention policy mapped to a bucket, Token authentication. */
  async function writeV1(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, raw: Buffer) {
    if (!authorized(req, res)) return;
    const db = params.get('db') ?? '';
    const mapping = dbrps.find((m) => m.database === db && m.default);
    const bucket = v3 && buckets.has(db) ? db : [...buckets].find(([, id]) => id === mapping?.bucketID)?.[0];
    if (!bucket) return notFound(res, `database not found: ${db}`);
    const precision = params.get('precision') ?? 'ns';
    const stored = await influxd(`/write?${new URLSearchParams({ db: bucket, precision })}`, {
      method: 'POST',
      body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw,
    });
    res.writeHead(stored.status, { 'content-type': 'application/json' });
    res.end(Buffer.from(await stored.arrayBuffer()));
  }

  async function query(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, raw: Buffer) {
    if (!authorized(req, res)) return;
    const db = params.get('db') ?? '';
    if (v3 && buckets.has(db)) return forwardQuery(req, res, params, raw);
    const mapping = dbrps.find(
      (m) => m.database === db && (params.get('rp') ? m.retention_policy === params.get('rp') : m.default),
    );
    if (!mapping) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ results: [{ statement_id: 0, error: `database not found: ${db}` }] }));
    }
    const bucket = [...buckets].find(([, id]) => id === mapping.bucketID)![0];
    params.set('db', bucket);
    params.delete('rp');
    return forwardQuery(req, res, params, raw);
  }

  async function forwardQuery(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    raw: Buffer,
  ) {
    const answer = await influxd(`/query?${params}`, {
      method: req.method!,
      ...(raw.length > 0
        ? { body: raw, headers: { 'content-type': req.headers['content-type'] ?? '' } }
        : {}),
    });
    res.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await answer.arrayBuffer()));
  }

  function listDbrps(req: IncomingMessage, res: ServerResponse, params: URLSearchParams) {
    if (!authorized(req, res) || !orgMatches(params, res)) return;
    const db = params.get('db');
    json(res, 200, { content: dbrps.filter((m) => db === null || m.database === db) });
  }

  function createDbrp(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    if (!authorized(req, res)) return;
    const body = JSON.parse(raw.toString('utf8')) as Partial<DbrpMapping> & { org?: string };
    if (body.org !== org && body.orgID !== ORG_ID) return notFound(res, 'organization not found');
    if (![...buckets.values()].includes(body.bucketID ?? '')) return notFound(res, 'bucket not found');
    if (!body.database || !body.retention_policy) {
      return json(res, 400, { code: 'invalid', message: 'database and retention_policy are required' });
    }
    const mapping: DbrpMapping = {
      id: String(++ids).padStart(16, '0'),
      orgID: ORG_ID,
      bucketID: body.bucketID!,
      database: body.database,
      retention_policy: body.retention_policy,
      default: body.default ?? false,
    };
    dbrps.push(mapping);
    json(res, 201, mapping);
  }

  function listBuckets(req: IncomingMessage, res: ServerResponse, params: URLSearchParams) {
    if (!authorized(req, res) || !orgMatches(params, res)) return;
    const name = params.get('name');
    const found = [...buckets].filter(([n]) => name === null || n === name);
    json(res, 200, { buckets: found.map(([n, id]) => ({ id, name: n, orgID: ORG_ID })) });
  }

  async function remove(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, raw: Buffer) {
    if (!authorized(req, res) || !orgMatches(params, res)) return;
    const bucket = params.get('bucket') ?? '';
    if (!buckets.has(bucket)) return notFound(res, `bucket "${bucket}" not found`);
    const body = JSON.parse(raw.toString('utf8')) as { start: string; stop: string; predicate?: string };
    const measurement = /^_measurement="([^"\\]+)"$/.exec(body.predicate ?? '')?.[1];
    const from = measurement === undefined ? '/.*/' : `"${measurement}"`;
    const q = `DELETE FROM ${from} WHERE time >= '${body.start}' AND time <= '${body.stop}'`;
    const answer = await influxd(`/query?${new URLSearchParams({ db: bucket, q })}`, { method: 'POST' });
    const result = (await answer.json()) as { results?: { error?: string }[] };
    if (result.results?.[0]?.error)
      return json(res, 400, { code: 'invalid', message: result.results[0].error });
    res.writeHead(204);
    res.end();
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://contract');
      const raw = Buffer.concat(chunks);
      const route = `${req.method} ${url.pathname}`;
      const handled = (async () => {
        if (route === 'POST /api/v2/write') return write(req, res, url.searchParams, raw);
        if (url.pathname === '/query') return query(req, res, url.searchParams, raw);
        if (route === 'POST /write') return writeV1(req, res, url.searchParams, raw);
        if (v3 && url.pathname.startsWith('/api/v2/')) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          return res.end('404 page not found');
        }
        if (route === 'GET /api/v2/dbrps') return listDbrps(req, res, url.searchParams);
        if (route === 'POST /api/v2/dbrps') return createDbrp(req, res, raw);
        if (route === 'GET /api/v2/buckets') return listBuckets(req, res, url.searchParams);
        if (route === 'POST /api/v2/delete') return remove(req, res, url.searchParams, raw);
        if (url.pathname === '/ping') {
          res.writeHead(204, {
            'X-Influxdb-Version': v3 ? '3.1.0' : 'v2.7.11',
            'X-Influxdb-Build': v3 ? 'Core' : 'OSS',
          });
          return res.end();
        }
        notFound(res, 'path not found');
      })();
      handled.catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { code: 'internal error', message: String(err) });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  contract = {
    url: `http://127.0.0.1:${port}`,
    org,
    token,
    writes,
    dbrps,
    onWrite: undefined,
    script: (...answers) => scripted.push(...answers),
    clearScript: () => void scripted.splice(0),
    async createBucket(name) {
      const created = await influxd(`/query?${new URLSearchParams({ q: `CREATE DATABASE "${name}"` })}`, {
        method: 'POST',
      });
      const result = (await created.json()) as { results?: { error?: string }[]; error?: string };
      const error = result.error ?? result.results?.[0]?.error;
      if (!created.ok || error) throw new Error(`influxd: CREATE DATABASE "${name}": ${error}`);
      // influxd 1.6.7 has been seen to answer a write "database not found" just after creating it (on a
      // loaded machine); a bucket is ready once influxd lists it.
      for (let attempt = 0; ; attempt++) {
        const shown = await influxd(`/query?${new URLSearchParams({ q: 'SHOW DATABASES' })}`);
        const body = (await shown.json()) as { results: { series?: { values: string[][] }[] }[] };
        if (body.results[0]?.series?.[0]?.values.some(([db]) => db === name)) break;
        if (attempt === 100) throw new Error(`influxd does not list database "${name}"`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const id = buckets.get(name) ?? (++ids).toString(16).padStart(16, '0');
      buckets.set(name, id);
      return id;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return contract;
}

/** One contract server shared by the tests of the calling file (see aroundTests). */
export function startInfluxV2ContractAroundTests(
  options: ContractOptions,
  started: (contract: InfluxV2Contract) => unknown,
): void {
  aroundTests(
    () => startInfluxV2Contract(options),
    (contract) => contract.close(),
    started,
  );
}
