// Replay: feeds recorded MQTT traffic through the same payload validation as the gateway
// (firmware-protocol decodeUplink) and the same rules, in event time, as fast as the CPU allows.
// Each line is {"topic": "anju/v1/<device>/<channel>", "payload": {...} or "<json text>"}, optionally with
// "receivedAt" (Unix ms; otherwise the payload's own ts stands for the arrival time).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { decodeUplink, isUplink, parseTopic } from '../firmware-protocol/index.ts';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import { eventTime, type ResidentContext, type RuleEngine } from './engine.ts';

export interface ReplayStats {
  lines: number;
  readings: number;
  invalid: number;
  firstTs: number | null;
  lastTs: number | null;
}

export type InvalidLineHandler = (lineNo: number, reason: string) => void;

interface Line {
  topic?: unknown;
  payload?: unknown;
  receivedAt?: unknown;
}

export class Replayer {
  readonly stats: ReplayStats = { lines: 0, readings: 0, invalid: 0, firstTs: null, lastTs: null };
  private lastTime = NaN;

  constructor(
    private readonly engine: RuleEngine,
    private readonly context: ResidentContext,
    private readonly onInvalid: InvalidLineHandler = () => {},
  ) {}

  /** Validates one line and, if it holds an accepted reading, ingests it (which advances the clock). */
  line(text: string, lineNo = this.stats.lines + 1): void {
    this.stats.lines++;
    if (text.trim() === '') return;
    let parsed: Line;
    try {
      parsed = JSON.parse(text) as Line;
    } catch (err) {
      return this.invalid(lineNo, `not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.topic !== 'string') {
      return this.invalid(lineNo, 'expected {"topic": "...", "payload": ...}');
    }
    const topic = parseTopic(parsed.topic);
    if (!topic || !isUplink(topic.channel))
      return this.invalid(lineNo, `not an Anju v1 uplink topic: ${parsed.topic}`);
    const device = this.context.device(topic.deviceId);
    if (!device) return this.invalid(lineNo, `unknown device ${topic.deviceId}`);

    const { payload } = parsed;
    if (payload === undefined) return this.invalid(lineNo, 'no payload');
    const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const receivedAt = typeof parsed.receivedAt === 'number' ? parsed.receivedAt : this.arrivalOf(payload);
    const decoded = decodeUplink(device.kind, topic.channel, Buffer.from(payloadText), receivedAt);
    if (!decoded.ok) return this.invalid(lineNo, `${decoded.error.code}: ${decoded.error.message}`);

    const reading: AcceptedReading = {
      deviceId: topic.deviceId,
      kind: device.kind,
      residentId: device.residentId,
      homeId: device.homeId,
      receivedAt,
      qos: 1,
      message: decoded.message,
    };
    const ts = eventTime(reading);
    this.lastTime = Math.max(Number.isNaN(this.lastTime) ? ts : this.lastTime, ts);
    this.stats.firstTs ??= ts;
    this.stats.lastTs = this.lastTime;
    this.stats.readings++;
    this.engine.ingest(reading);
  }

  /**
   * After the last line: let the clock run on for `ms` more, so timers due after the data fire too. No
   * device is still uploading a backlog once the file has ended, so no resident is held back.
   */
  finish(ms = 0): ReplayStats {
    this.engine.endBacklogs();
    if (!Number.isNaN(this.lastTime)) this.engine.advanceTo(this.lastTime + ms);
    return this.stats;
  }

  /** The payload's own ts stands for its arrival; a message without one arrived with the one before. */
  private arrivalOf(payload: unknown): number {
    let ts: unknown;
    if (typeof payload === 'object' && payload !== null) ts = (payload as { ts?: unknown }).ts;
    else if (typeof payload === 'string') {
      try {
        ts = (JSON.parse(payload) as { ts?: unknown } | null)?.ts;
      } catch {
        // decodeUplink reports the bad JSON.
      }
    }
    if (typeof ts === 'number' && Number.isFinite(ts)) return ts;
    return Number.isNaN(this.lastTime) ? Date.now() : this.lastTime;
  }

  private invalid(lineNo: number, reason: string): void {
    this.stats.invalid++;
    this.onInvalid(lineNo, reason);
  }
}

/** Replays a JSONL file line by line (streaming, so a file of any size fits). */
export async function replayFile(
  file: string,
  engine: RuleEngine,
  context: ResidentContext,
  options: { onInvalid?: InvalidLineHandler; advanceMs?: number } = {},
): Promise<ReplayStats> {
  const replayer = new Replayer(engine, context, options.onInvalid);
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const text of lines) replayer.line(text);
  return replayer.finish(options.advanceMs ?? 0);
}
