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

export async function usePostgresAdapter(io: Server, url: string): Promise<SocketAdapter> {
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'anju-socket.io' });
  pool.on('error', () => {}); // a lost idle connection is replaced; the adapter reconnects its listener
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    id BIGSERIAL UNIQUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    payload BYTEA
  )`);
  io.adapter(createAdapter(pool, { tableName: TABLE, channelPrefix: 'anju_socket_io' }));
  return {
    async close() {
      await pool.end();
    },
  };
}
