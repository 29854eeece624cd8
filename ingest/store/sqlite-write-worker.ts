// Runs inside the writer thread of ThreadedSqliteTelemetryStore: owns the connection that writes readings
// and applies retention, and answers each request with its outcome in plain data (errors keep their
// SQLite or system code, refusals their indexes and reasons).
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteTelemetryStore, type SqliteStoreOptions } from './sqlite.ts';
import { RefusedPointsError } from './types.ts';
import type { WriteReply, WriteRequest } from './sqlite-threaded.ts';

const store = new SqliteTelemetryStore(workerData as SqliteStoreOptions);
const port = parentPort!;

async function answer(request: WriteRequest): Promise<WriteReply> {
  switch (request.type) {
    case 'write':
      await store.write(request.points);
      return { id: request.id, ok: true };
    case 'retention':
      await store.applyRetention(request.olderThan);
      return { id: request.id, ok: true };
    case 'health':
      return { id: request.id, ok: true, health: await store.health() };
    case 'close':
      await store.close();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: WriteRequest) => {
  answer(request).then(
    (reply) => port.postMessage(reply),
    (err: unknown) =>
      port.postMessage(
        err instanceof RefusedPointsError
          ? { id: request.id, ok: false, refused: err.refused, stored: err.stored }
          : {
              id: request.id,
              ok: false,
              error: {
                message: err instanceof Error ? err.message : String(err),
                code: (err as { code?: unknown }).code,
              },
            },
      ),
  );
});
