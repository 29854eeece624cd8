// The telemetry store's writer in a cluster: every node runs one on the log's shared consumer, so each
// reading is written by one node, and by another if that one dies before acknowledging it. Writes are
// idempotent (a point is identified by measurement, tags and time), so a redelivery stores nothing twice.
import type { Logger } from 'pino';
import { toPoints } from '../points.ts';
import { RefusedPointsError, type TelemetryStore } from '../store/types.ts';
import type { SharedConsumer } from './jetstream.ts';

export interface LogStoreWriterOptions {
  consumer: SharedConsumer;
  store: TelemetryStore;
  logger: Logger;
  batchSize?: number;
  waitMs?: number;
  /** After a failed write the batch comes back this much later (to any node). */
  retryMs?: number;
}

export class LogStoreWriter {
  private running = false;
  private loop: Promise<void> | undefined;
  /** Readings written (acknowledged), for status and tests. */
  written = 0;
  refused = 0;

  constructor(private readonly options: LogStoreWriterOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { consumer, store, logger } = this.options;
    while (this.running) {
      let messages;
      try {
        messages = await consumer.next(this.options.batchSize ?? 1000, this.options.waitMs ?? 1_000);
      } catch (err) {
        logger.warn({ err }, 'reading log not reachable; the store writer retries');
        await new Promise((r) => setTimeout(r, this.options.retryMs ?? 2000));
        continue;
      }
      if (messages.length === 0) continue;
      try {
        await store.write(messages.flatMap((m) => toPoints(m.reading)));
      } catch (err) {
        if (!(err instanceof RefusedPointsError)) {
          logger.warn(
            { err, readings: messages.length },
            'telemetry store write failed; the batch comes back',
          );
          for (const m of messages) m.retryIn(this.options.retryMs ?? 2000);
          continue;
        }
        // The store took the rest; what it refused it will never take.
        this.refused += err.refused.length;
        logger.warn({ refused: err.refused.length }, 'telemetry store refused points for good');
      }
      for (const m of messages) m.ack();
      this.written += messages.length;
    }
  }
}
