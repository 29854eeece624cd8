// The embedded SQLite store with its writes on a thread of their own. Writing a batch of readings is the
// largest share of the server's CPU under load (a 2,000-point batch took 78 ms of the event loop on
// average at 5,000 readings/s), and every alarm arriving meanwhile waited behind it. Here a worker thread
// owns the connection that writes and applies retention, on another core; the main thread keeps a
// connection of its own for reads (WAL lets them run beside the writer). A writer thread that dies fails
// the writes in flight (the store writer retries them from the journal) and is started again.
import { Worker } from 'node:worker_threads';
import { SqliteTelemetryStore, SqliteStoreOptions } from './sqlite.ts';
import {
  RefusedPointsError,
  type LatestValue,
  type Point,
  type RefusedPoint,
  type SeriesSelector,
  type StoreHealth,
  type TelemetryQuery,
  type TelemetryStore,
  type TimeValue,
} from './types.ts';

/** What the main thread asks of the writer thread; each request carries an id its reply repeats. */
type Request =
  | { type: 'write'; points: readonly Point[] }
  | { type: 'retention'; olderThan: number }
  | { type: 'health' }
  | { type: 'close' };
export type WriteRequest = Request & { id: number };

export type WriteReply =
  | { id: number; ok: true; health?: StoreHealth }
  | { id: number; ok: false; refused: RefusedPoint[]; stored: number }
  | { id: number; ok: false; error: { message: string; code?: unknown } };

export class ThreadedSqliteTelemetryStore implements TelemetryStore {
  readonly backend = 'sqlite' as const;
  private readonly reader: SqliteTelemetryStore;
  private readonly options: SqliteStoreOptions;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (reply: WriteReply) => void>();
  private nextId = 1;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.options = SqliteStoreOptions.parse(options);
    // Creates the schema before the writer opens the file; retention is the writer's.
    this.reader = new SqliteTelemetryStore({ dataDir: this.options.dataDir });
    this.worker = this.startWorker();
  }

  async write(points: readonly Point[]): Promise<void> {
    await this.ask({ type: 'write', points });
  }

  async applyRetention(olderThan: number): Promise<void> {
    await this.ask({ type: 'retention', olderThan });
  }

  query(query: TelemetryQuery): Promise<TimeValue[]> {
    return this.reader.query(query);
  }

  latest(selector: SeriesSelector): Promise<LatestValue[]> {
    return this.reader.latest(selector);
  }

  latestByDevice(deviceIds: readonly string[]): Promise<Map<string, LatestValue[]>> {
    return this.reader.latestByDevice(deviceIds);
  }

  async health(): Promise<StoreHealth> {
    const read = await this.reader.health();
    if (!read.ok) return read;
    try {
      const reply = await this.ask({ type: 'health' });
      return reply.ok && reply.health ? reply.health : read;
    } catch (err) {
      return { ok: false, backend: this.backend, error: `writer thread: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.worker) await this.ask({ type: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.worker?.terminate();
    this.worker = undefined;
    await this.reader.close();
  }

  private ask(request: Request): Promise<WriteReply> {
    if (this.closed) return Promise.reject(new Error('telemetry store is closed'));
    const worker = (this.worker ??= this.startWorker());
    const id = this.nextId++;
    return new Promise<WriteReply>((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if (reply.ok) resolve(reply);
        else if ('refused' in reply) reject(new RefusedPointsError(reply.refused, reply.stored));
        else reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      });
      worker.postMessage({ id, ...request });
    });
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./sqlite-write-worker.mjs', import.meta.url), {
      workerData: this.options,
    });
    worker.on('message', (reply: WriteReply) => {
      const settle = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      settle?.(reply);
    });
    let failure: Error | undefined;
    worker.on('error', (err) => (failure ??= err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const message = `telemetry writer thread stopped (exit code ${code}${failure ? `: ${failure.message}` : ''})`;
      for (const settle of this.pending.values()) settle({ id: 0, ok: false, error: { message } });
      this.pending.clear();
    });
    return worker;
  }
}
