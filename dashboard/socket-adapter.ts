// Socket.IO across nodes: each node's console events reach the consoles connected to every other node
// through PostgreSQL (LISTEN/NOTIFY, large payloads through a table), the database a cluster already
// shares, rather than a broker added for this alone. A console on node B sees an SOS taken on node A.
import { createAdapter } from '@socket.io/postgres-adapter';
import pg from 'pg';
import type { Server } from 'socket.io';

export interface SocketAdapter {
  close(): Promise<void>;
}

const TABLE = 'socket_io_attachments';
const CLOSE_WAIT_MS = 2_000;

export async function usePostgresAdapter(io: Server, url: string): Promise<SocketAdapter> {
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'anju-socket.io' });
  pool.on('error', () => {}); // a lost idle connection is replaced
  // The adapter keeps one client checked out for LISTEN and attaches no 'error' listener to it: a
  // PostgreSQL restart would end the process with an unhandled 'error' event. With this one the client
  // just ends, and the adapter connects a new listener ('end' schedules it).
  pool.on('connect', (client) => client.on('error', () => {}));
  // That client, when it breaks, is dropped by the adapter without being released: the pool would count
  // it busy for ever (pool.end() never returned, and after `max` restarts no new listener could connect).
  // The adapter's is the only promise-style connect (pool.query passes a callback): released here, with
  // its error, so the pool forgets it.
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<pg.PoolClient> | undefined;
  const connectListener = async (): Promise<pg.PoolClient> => {
    const client = (await connect())!;
    client.once('error', (err) => {
      try {
        client.release(err);
      } catch {
        // Already released by close().
      }
    });
    return client;
  };
  Object.assign(pool, {
    connect: (...args: unknown[]) => (args.length > 0 ? connect(...args) : connectListener()),
  });
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    id BIGSERIAL UNIQUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    payload BYTEA
  )`);
  io.adapter(createAdapter(pool, { tableName: TABLE, channelPrefix: 'anju_socket_io' }));
  let closing: Promise<void> | undefined;
  return {
    // A listener the adapter was connecting while Socket.IO closed it is never released, and pool.end()
    // waits for it: closing waits at most CLOSE_WAIT_MS, then the process goes on stopping.
    close: () =>
      (closing ??= Promise.race([
        pool.end().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref()),
      ])),
  };
}
