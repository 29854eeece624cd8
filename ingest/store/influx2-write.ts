// Sends line protocol to InfluxDB's v2 write API (/api/v2/write) through @influxdata/influxdb-client and
// turns every documented answer into what the store writer needs to know: stored, refused for good, or
// not stored (retry later).
//
// The client's WriteApi normally buffers lines, flushes on a timer and retries in the background from its
// own retry buffer; its flush() then rejects while the lines wait there, and a later retry may succeed or
// be dropped without anyone asking. The journal must be the only buffer, so each request here is one
// WriteApi used once: every line in one batch (no size or timer flushes), maxRetries 0 (no retry buffer),
// gzip always. A call returns only when InfluxDB has answered 204 for every line it counts as stored.
import { HttpError, InfluxDB, type Transport } from '@influxdata/influxdb-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryAfterMs } from './retry-after.ts';
import type { RefusedPoint } from './types.ts';

export interface LineToWrite {
  /** Position of the point in the batch given to the store's write(). */
  index: number;
  line: string;
}

/** 401/403: the token is missing, wrong or lacks write access. Nothing was written and nothing is dropped. */
export class InfluxAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfluxAuthError';
  }
}

export interface V2WriterOptions {
  url: string;
  token: string | undefined;
  org: string;
  bucket: string;
  timeoutMs: number;
  /** The longest one write() waits for a server that answered 429 or 503 before giving up for now. */
  maxRetryWaitMs: number;
  /** Aborted when the store closes, to end a wait at once. */
  signal: AbortSignal;
}

// When 429 or 503 come without Retry-After: the client's own defaults (DEFAULT_WriteOptions: 5 s doubling
// to 125 s), which are what it would have done with its retry buffer.
const THROTTLE_MIN_DELAY_MS = 5_000;
const THROTTLE_MAX_DELAY_MS = 125_000;

interface Answer {
  status: number | undefined;
}

export class V2LineWriter {
  /** No request before this time: a 429 or 503 asked us to wait. Shared by calls, so order is kept. */
  private notBefore = 0;
  /** Consecutive 429/503 answers without Retry-After, for the exponential fallback delay. */
  private throttled = 0;
  /** Set by a 401/403 and cleared by the next 204, for health(). */
  authError: string | undefined;

  constructor(private readonly options: V2WriterOptions) {}

  /** Writes the lines; returns how many were stored, pushes the refused ones, throws when not stored. */
  async write(lines: LineToWrite[], refused: RefusedPoint[]): Promise<number> {
    const deadline = Date.now() + this.options.maxRetryWaitMs;
    return this.writeOrSplit(lines, refused, deadline);
  }

  private async writeOrSplit(
    lines: LineToWrite[],
    refused: RefusedPoint[],
    deadline: number,
  ): Promise<number> {
    const error = await this.sendWhenAllowed(lines, deadline);
    if (error === undefined) return lines.length;
    // 400/422: InfluxDB refused some lines (type conflict, beyond the bucket's retention, unparsable) and,
    // depending on the version, stored the others or none; it names at most the first. Halving and
    // rewriting (idempotent) finds every refused line. 413: the body was too large; halves are smaller.
    if (lines.length === 1) {
      refused.push({ index: lines[0]!.index, reason: reasonOf(error) });
      return 0;
    }
    const half = Math.ceil(lines.length / 2);
    return (
      (await this.writeOrSplit(lines.slice(0, half), refused, deadline)) +
      (await this.writeOrSplit(lines.slice(half), refused, deadline))
    );
  }

  /**
   * Sends once the server allows it, again after each 429/503 while the deadline allows. Returns nothing
   * on 204, the error for answers that refuse lines (400, 413, 422), and throws for everything else.
   */
  private async sendWhenAllowed(lines: LineToWrite[], deadline: number): Promise<HttpError | undefined> {
    for (let retrying = false; ; retrying = true) {
      const wait = Math.max(0, this.notBefore - Date.now());
      // A resend after the deadline is refused too, so a server saying "Retry-After: 0" forever is no busy loop.
      if ((wait > 0 || retrying) && Date.now() + wait > deadline) {
        throw new Error(
          `InfluxDB asked Anju to wait before writing again (429/503); next attempt after ${new Date(this.notBefore).toISOString()}`,
        );
      }
      if (wait > 0) {
        await sleep(wait, undefined, { signal: this.options.signal });
      }
      const answer: Answer = { status: undefined };
      try {
        await this.send(lines, answer);
      } catch (err) {
        if (!(err instanceof HttpError)) throw err; // connection refused, reset, timeout: not stored
        const refusal = this.judge(err);
        if (refusal === 'retry') continue;
        return refusal;
      }
      if (answer.status !== 204) {
        // The client also resolves on 201 (a partial write on some 3.x servers) and on no status at all;
        // only 204 means every line is stored, so anything else stores nothing in Anju's books.
        throw new Error(`InfluxDB answered ${answer.status ?? 'without a status'} to a write, not 204`);
      }
      this.throttled = 0;
      this.authError = undefined;
      return undefined;
    }
  }

  /** What an error answer means: lines refused (returned), wait and resend ('retry'), or not stored (throws). */
  private judge(err: HttpError): HttpError | 'retry' {
    const code = typeof err.json?.code === 'string' ? (err.json.code as string) : undefined;
    const status = err.statusCode;
    if (status === 401 || status === 403 || code === 'unauthorized' || code === 'forbidden') {
      const { org, bucket } = this.options;
      this.authError =
        `InfluxDB refused the token (${status} ${reasonOf(err)}): ANJU_INFLUX_TOKEN must be an API token ` +
        `with write access to bucket "${bucket}" in organization "${org}"`;
      throw new InfluxAuthError(this.authError);
    }
    if (status === 400 || status === 413 || status === 422) return err;
    if (status === 429 || status === 503) {
      this.throttled += 1;
      const advised = retryAfterMs(err.headers?.['retry-after']);
      const fallback = Math.min(THROTTLE_MAX_DELAY_MS, THROTTLE_MIN_DELAY_MS * 2 ** (this.throttled - 1));
      this.notBefore = Date.now() + (advised ?? fallback);
      return 'retry';
    }
    // 404 (organization or bucket not found), 500 and the rest: nothing stored, the writer retries later.
    throw new Error(`InfluxDB write failed: ${status} ${reasonOf(err)}`);
  }

  /** One POST /api/v2/write with every line, through a WriteApi used once. */
  private async send(lines: LineToWrite[], answer: Answer): Promise<void> {
    const { url, token, org, bucket, timeoutMs } = this.options;
    const base = new InfluxDB({ url, timeout: timeoutMs, ...(token !== undefined ? { token } : {}) });
    const client = new InfluxDB({ url, transport: observeStatus(base.transport, answer) });
    const api = client.getWriteApi(org, bucket, 'ms', {
      batchSize: lines.length + 1,
      maxBatchBytes: Number.POSITIVE_INFINITY,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold: 0,
    });
    api.writeRecords(lines.map((l) => l.line));
    await api.close();
  }
}

/** The transport, reporting the status of each answer: the WriteApi treats 201 and 204 alike. */
function observeStatus(transport: Transport, answer: Answer): Transport {
  const observed = Object.create(transport) as Transport;
  observed.send = (path, body, options, callbacks) =>
    transport.send(path, body, options, {
      ...callbacks,
      responseStarted(headers, status) {
        answer.status = status;
        callbacks?.responseStarted?.(headers, status);
      },
    });
  return observed;
}

function reasonOf(err: HttpError): string {
  const json = err.json as { message?: unknown; error?: unknown } | undefined;
  const text =
    typeof json?.message === 'string'
      ? json.message
      : typeof json?.error === 'string'
        ? json.error
        : err.body;
  return (text || err.message).trim().slice(0, 500);
}
