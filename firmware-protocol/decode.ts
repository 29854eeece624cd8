// Turns raw uplink bytes into a typed message or a ProtocolError body. Shared by the gateway, `anju
// replay` and the simulator so that every path judges a payload the same way.
import type { z } from 'zod';
import { EventByKind, Heartbeat, Seq, Status, TelemetryByKind } from './schemas.ts';
import type { DeviceKind, ErrorCode, Heartbeat as HeartbeatBody, Status as StatusBody } from './schemas.ts';
import type { UplinkChannel } from './topics.ts';

export const MAX_PAYLOAD_BYTES = 8 * 1024;
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
export const MAX_CLOCK_BEHIND_MS = 7 * 24 * 3_600_000;

export type UplinkMessage =
  | { channel: 'telemetry'; body: z.infer<(typeof TelemetryByKind)[DeviceKind]> }
  | { channel: 'event'; body: z.infer<(typeof EventByKind)[DeviceKind]> }
  | { channel: 'heartbeat'; body: HeartbeatBody }
  | { channel: 'status'; body: StatusBody };

export interface DecodeFailure {
  code: ErrorCode;
  message: string;
  seq: number | null;
  issues: { path: string; message: string }[];
}

export type DecodeResult = { ok: true; message: UplinkMessage } | { ok: false; error: DecodeFailure };

export function schemaFor(kind: DeviceKind, channel: UplinkChannel): z.ZodType {
  switch (channel) {
    case 'telemetry':
      return TelemetryByKind[kind];
    case 'event':
      return EventByKind[kind];
    case 'heartbeat':
      return Heartbeat;
    case 'status':
      return Status;
  }
}

// One decoder for all payloads: `fatal` makes invalid UTF-8 an error instead of U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const RANGE_CODES = new Set(['too_big', 'too_small']);

function fail(code: ErrorCode, message: string, seq: number | null, issues: DecodeFailure['issues'] = []) {
  return { ok: false as const, error: { code, message, seq, issues } };
}

/** `now` is the gateway's arrival time, used to refuse timestamps from a device without a working clock. */
export function decodeUplink(
  kind: DeviceKind,
  channel: UplinkChannel,
  payload: Uint8Array,
  now: number,
): DecodeResult {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return fail(
      'E_TOO_LARGE',
      `payload is ${payload.byteLength} bytes; the limit is ${MAX_PAYLOAD_BYTES}`,
      null,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(payload));
  } catch (err) {
    return fail('E_JSON', `payload is not UTF-8 JSON: ${(err as Error).message}`, null);
  }
  // Echoed only when it is a valid seq, so the error message itself always passes ProtocolError.
  const rawSeq = (json as { seq?: unknown } | null)?.seq;
  const seq = Seq.safeParse(rawSeq).success ? (rawSeq as number) : null;

  const parsed = schemaFor(kind, channel).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const code: ErrorCode = parsed.error.issues.every((i) => RANGE_CODES.has(i.code))
      ? 'E_RANGE'
      : 'E_SCHEMA';
    const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return fail(code, summary, seq, issues);
  }
  const body = parsed.data as { ts?: number };
  if (body.ts !== undefined && (body.ts > now + MAX_CLOCK_AHEAD_MS || body.ts < now - MAX_CLOCK_BEHIND_MS)) {
    const skewS = Math.round((body.ts - now) / 1000);
    return fail('E_CLOCK', `ts is ${skewS} s from the gateway clock`, seq, [
      { path: 'ts', message: 'clock skew' },
    ]);
  }
  return { ok: true, message: { channel, body: parsed.data } as UplinkMessage };
}
