// The shared backend: PostgreSQL through node-postgres' pool. Several Anju processes may use one
// database; what must not race is guarded by constraints and row locks in the stores, not here.
import pg from 'pg';
import { numberPlaceholders, type Database, type Param, type RunResult, type Sql } from './sql.ts';

export interface PostgresOptions {
  /** Connections in the pool. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

const INT8 = 20;
const NUMERIC = 1700;

// Times are Unix ms in BIGINT columns and counts are BIGINT: both fit a JavaScript number.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

interface Queryable {
  query(text: string, values?: readonly Param[]): Promise<pg.QueryResult>;
}

function over(target: Queryable, transaction: Sql['transaction']): Sql {
  const query = (text: string, params: readonly Param[] = []) =>
    target.query(numberPlaceholders(text), params as Param[]);
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params?: readonly Param[]) => (await query(text, params)).rows as T[],
    one: async <T>(text: string, params?: readonly Param[]) =>
      (await query(text, params)).rows[0] as T | undefined,
    run: async (text, params): Promise<RunResult> => ({ changes: (await query(text, params)).rowCount ?? 0 }),
    exec: async (script) => void (await target.query(script)),
    transaction,
  };
}

/** The URL without its password, for logs and messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private readonly direct: Sql;

  constructor(url: string, options: PostgresOptions = {}) {
    this.location = redactUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'anju',
      types,
    });
    // An idle client losing its server must not end the process; the next query reports it.
    this.pool.on('error', () => {});
    // Nor may a checked-out one (a transaction while PostgreSQL restarts): the pool takes its own
    // listener off while a client is out, and the client emits 'error' besides failing the query.
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.direct = over(this.pool, (fn) => this.transaction(fn));
  }

  all<T>(text: string, params?: readonly Param[]): Promise<T[]> {
    return this.direct.all<T>(text, params);
  }

  one<T>(text: string, params?: readonly Param[]): Promise<T | undefined> {
    return this.direct.one<T>(text, params);
  }

  run(text: string, params?: readonly Param[]): Promise<RunResult> {
    return this.direct.run(text, params);
  }

  exec(script: string): Promise<void> {
    return this.direct.exec(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const tx: Sql = over(client, (inner) => inner(tx));
      try {
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
