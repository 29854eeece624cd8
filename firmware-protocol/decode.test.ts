// decodeUplink is the gateway's judgement of every uplink payload: what it accepts, and the code and seq a
// device gets back when it refuses one.
import { describe, expect, it } from 'vitest';
import {
  MAX_CLOCK_AHEAD_MS,
  MAX_CLOCK_BEHIND_MS,
  MAX_PAYLOAD_BYTES,
  decodeUplink,
  type DecodeResult,
} from './decode.ts';
import { ProtocolError, type DeviceKind } from './schemas.ts';
import type { UplinkChannel } from './topics.ts';

const NOW = 1_764_000_000_000;
const bytes = (body: unknown) =>
  new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));

function decode(kind: DeviceKind, channel: UplinkChannel, body: unknown, now = NOW): DecodeResult {
  return decodeUplink(kind, channel, body instanceof Uint8Array ? body : bytes(body), now);
}

function refusal(result: DecodeResult) {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.message)}`);
  return result.error;
}

const wearable = (extra: Record<string, unknown> = {}) => ({
  ts: NOW,
  seq: 42,
  heartRate: 72,
  worn: true,
  ...extra,
});
const gas = (extra: Record<string, unknown>) => ({ ts: NOW, seq: 7, ...extra });

describe('accepted messages', () => {
  it('returns the channel and the parsed body of a valid reading', () => {
    expect(decode('wearable', 'telemetry', wearable())).toEqual({
      ok: true,
      message: { channel: 'telemetry', body: wearable() },
    });
  });

  it('accepts heartbeats and a status without a timestamp from any kind', () => {
    const heartbeat = { ts: NOW, seq: 1, firmware: '1.0.0', rssi: -70, uptime: 5 };
    for (const kind of ['wearable', 'gas_sensor', 'env_monitor', 'water_meter'] as const) {
      expect(decode(kind, 'heartbeat', heartbeat).ok).toBe(true);
      expect(decode(kind, 'status', { state: 'offline' }).ok).toBe(true);
    }
  });

  it('accepts a payload of exactly the size limit', () => {
    const json = JSON.stringify(wearable());
    const padded = json + ' '.repeat(MAX_PAYLOAD_BYTES - json.length);
    expect(decode('wearable', 'telemetry', padded).ok).toBe(true);
  });

  it('accepts timestamps right at the clock limits', () => {
    expect(decode('wearable', 'telemetry', wearable({ ts: NOW + MAX_CLOCK_AHEAD_MS })).ok).toBe(true);
    expect(decode('wearable', 'telemetry', wearable({ ts: NOW - MAX_CLOCK_BEHIND_MS })).ok).toBe(true);
  });
});

describe('E_RANGE: values outside their physical range', () => {
  it.each([
    ['a heart rate of 900', 'wearable', wearable({ heartRate: 900 }), 'heartRate'],
    ['SpO2 of 120 %', 'wearable', wearable({ spo2: 120 }), 'spo2'],
    [
      'CO at 20000 ppm',
      'gas_sensor',
      gas({ gas: 'co', concentration: 20_000, unit: 'ppm' }),
      'concentration',
    ],
    [
      'methane at 150 % LEL',
      'gas_sensor',
      gas({ gas: 'methane', concentration: 150, unit: '%LEL' }),
      'concentration',
    ],
    ['a negative water meter count', 'water_meter', { ts: NOW, seq: 1, litres: -1 }, 'litres'],
    ['a timestamp in seconds', 'wearable', wearable({ ts: NOW / 1000 }), 'ts'],
  ] as const)('refuses %s', (_what, kind, body, path) => {
    const error = refusal(decode(kind, 'telemetry', body));
    expect(error.code).toBe('E_RANGE');
    expect(error.issues.map((i) => i.path)).toEqual([path]);
  });

  it('refuses a fall confidence above 1 on the event topic', () => {
    const fall = { ts: NOW, seq: 3, type: 'fall', confidence: 1.5, cancellable: true };
    expect(refusal(decode('wearable', 'event', fall)).code).toBe('E_RANGE');
  });
});

describe('E_SCHEMA: wrong types, unknown fields, empty readings', () => {
  it.each([
    ['a heart rate sent as a string', 'wearable', wearable({ heartRate: '72' })],
    ['a fractional heart rate', 'wearable', wearable({ heartRate: 72.5 })],
    ['worn as "yes"', 'wearable', wearable({ worn: 'yes' })],
    ['a missing seq', 'wearable', { ts: NOW, heartRate: 72, worn: true }],
    ['an unknown field', 'wearable', wearable({ bloodPressure: 120 })],
    ['an unknown field next to a range error', 'wearable', wearable({ heartRate: 900, colour: 'red' })],
    ['a wearable reading without worn', 'wearable', { ts: NOW, seq: 1, heartRate: 72 }],
    ['an empty environment reading', 'env_monitor', { ts: NOW, seq: 1 }],
    ['an environment reading with only the battery', 'env_monitor', { ts: NOW, seq: 1, battery: 50 }],
    ['an unknown gas', 'gas_sensor', gas({ gas: 'hydrogen', concentration: 1, unit: '%LEL' })],
    ['a reading that is not an object', 'wearable', [1, 2, 3]],
    ['null', 'wearable', null],
    [
      "a gas reading from a wearable (another kind's message)",
      'wearable',
      gas({ gas: 'co', concentration: 5, unit: 'ppm' }),
    ],
  ] as const)('refuses %s', (_what, kind, body) => {
    expect(refusal(decode(kind, 'telemetry', body)).code).toBe('E_SCHEMA');
  });

  it('refuses methane in ppm and CO in % LEL, naming the unit', () => {
    for (const body of [
      gas({ gas: 'methane', concentration: 12, unit: 'ppm' }),
      gas({ gas: 'co', concentration: 12, unit: '%LEL' }),
    ]) {
      const error = refusal(decode('gas_sensor', 'telemetry', body));
      expect(error.code).toBe('E_SCHEMA');
      expect(error.issues).toEqual([{ path: 'unit', message: expect.stringMatching(/reported in/) }]);
    }
  });

  it('refuses a gas alarm event in the wrong unit', () => {
    const alarm = { ts: NOW, seq: 9, type: 'gas_alarm', gas: 'methane', concentration: 27, unit: 'ppm' };
    expect(refusal(decode('gas_sensor', 'event', alarm)).code).toBe('E_SCHEMA');
  });

  it('refuses an event type that this kind does not send', () => {
    expect(refusal(decode('gas_sensor', 'event', { ts: NOW, seq: 3, type: 'sos' })).code).toBe('E_SCHEMA');
  });

  it('refuses a status other than online or offline', () => {
    expect(refusal(decode('wearable', 'status', { state: 'sleeping' })).code).toBe('E_SCHEMA');
  });
});

describe('E_JSON: payloads that are not UTF-8 JSON', () => {
  it.each([
    ['plain text', bytes('hello')],
    ['an empty payload', new Uint8Array()],
    ['truncated JSON', bytes('{"ts":1764000000000,"seq":4')],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['UTF-16 JSON', Buffer.from(JSON.stringify(wearable()), 'utf16le')],
  ])('refuses %s', (_what, payload) => {
    const error = refusal(decode('wearable', 'telemetry', payload));
    expect(error.code).toBe('E_JSON');
    expect(error.seq).toBeNull();
  });
});

describe('E_TOO_LARGE', () => {
  it('refuses a payload one byte over the limit before reading it', () => {
    const json = JSON.stringify(wearable());
    const error = refusal(
      decode('wearable', 'telemetry', json + ' '.repeat(MAX_PAYLOAD_BYTES + 1 - json.length)),
    );
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain(String(MAX_PAYLOAD_BYTES));
  });
});

describe('E_CLOCK: timestamps too far from the gateway clock', () => {
  it('refuses a reading more than 5 minutes ahead', () => {
    const error = refusal(decode('wearable', 'telemetry', wearable({ ts: NOW + MAX_CLOCK_AHEAD_MS + 1 })));
    expect(error).toMatchObject({ code: 'E_CLOCK', seq: 42, issues: [{ path: 'ts' }] });
  });

  it('refuses a reading more than 7 days behind', () => {
    expect(
      refusal(decode('wearable', 'telemetry', wearable({ ts: NOW - MAX_CLOCK_BEHIND_MS - 1 }))).code,
    ).toBe('E_CLOCK');
  });

  it('judges the optional status timestamp too', () => {
    expect(refusal(decode('env_monitor', 'status', { state: 'online', ts: NOW + 3_600_000 })).code).toBe(
      'E_CLOCK',
    );
  });

  it('uses the arrival time it is given, not the wall clock', () => {
    const later = NOW + 30 * 24 * 3_600_000;
    expect(decode('wearable', 'telemetry', wearable({ ts: later }), later).ok).toBe(true);
  });
});

describe('the seq echoed in a refusal', () => {
  it('is the refused message seq when it can be read', () => {
    expect(refusal(decode('wearable', 'telemetry', wearable({ seq: 4711, heartRate: 900 }))).seq).toBe(4711);
    expect(refusal(decode('wearable', 'telemetry', wearable({ seq: 0, extra: 1 }))).seq).toBe(0);
  });

  it('is null when the seq is missing or not a valid seq', () => {
    for (const seq of [undefined, '7', 1.5, -1, 2 ** 32]) {
      expect(
        refusal(decode('wearable', 'telemetry', wearable({ seq, heartRate: 900 }))).seq,
        String(seq),
      ).toBeNull();
    }
  });

  it('makes, with the time and topic added, an error message that passes the ProtocolError schema', () => {
    const cases = [
      wearable({ heartRate: 900 }),
      wearable({ seq: -5, heartRate: 900 }),
      'not json',
      { seq: 3 },
    ];
    for (const body of cases) {
      const error = refusal(decode('wearable', 'telemetry', body));
      const message = { ts: NOW, topic: 'anju/v1/wb-0001/telemetry', ...error };
      expect(ProtocolError.safeParse(message).error?.issues ?? [], JSON.stringify(body)).toEqual([]);
    }
  });
});
