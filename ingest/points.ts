// Turns one accepted uplink message into telemetry store points. The measurement is the device kind's
// family (or heartbeat, or event); tags say whose reading it is plus what a query filters on (the gas,
// the event type); fields are the measured values. Status messages are presence, not telemetry: no points.
import type { DeviceKind } from '../firmware-protocol/index.ts';
import type { AcceptedReading } from '../firmware-protocol/accepted.ts';
import type { FieldValue, Measurement, Point } from './store/types.ts';

const FAMILY: Record<DeviceKind, Measurement> = {
  wearable: 'wearable',
  gas_sensor: 'gas',
  env_monitor: 'env',
  water_meter: 'water',
};

// Body keys that are the envelope or become tags, not fields. `unit` follows from the gas (% LEL or ppm).
const NOT_FIELDS = new Set(['ts', 'seq', 'type', 'gas', 'unit']);

function fieldsOf(body: Record<string, unknown>): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(body)) {
    if (NOT_FIELDS.has(key) || value === undefined) continue;
    fields[key] = value as FieldValue;
  }
  return fields;
}

export function toPoints(reading: AcceptedReading): Point[] {
  const { message } = reading;
  if (message.channel === 'status') return [];
  const body = message.body as Record<string, unknown> & { ts: number; seq: number };
  const tags: Point['tags'] = { deviceId: reading.deviceId };
  if (reading.residentId !== null) tags.residentId = reading.residentId;
  if (reading.homeId !== null) tags.homeId = reading.homeId;
  if (typeof body.gas === 'string') tags.gas = body.gas;

  let measurement: Measurement;
  const fields = fieldsOf(body);
  if (message.channel === 'event') {
    measurement = 'event';
    tags.type = message.body.type;
    // Many events carry nothing but their type; a point needs a field, and this one makes events listable.
    fields.event = message.body.type;
  } else {
    measurement = message.channel === 'heartbeat' ? 'heartbeat' : FAMILY[reading.kind];
  }
  return [{ measurement, tags, fields, ts: body.ts, seq: body.seq }];
}
