// Payloads a faulty device sends, each made to be refused with one error code, so a run can check that
// Anju answers every fault the way the protocol says.
import { topicFor, type ErrorCode } from '../firmware-protocol/index.ts';
import type { SimDevice } from './community.ts';
import type { MalformedVariant } from './scenarios.ts';
import type { Payload } from './output.ts';

export interface Fault {
  payload: Payload;
  topic: string;
  expect: ErrorCode;
}

/** A body of this device kind that is valid, to send to the wrong topic or make too large. */
function validBody(d: SimDevice): Record<string, unknown> {
  switch (d.kind) {
    case 'wearable':
      return { worn: true };
    case 'gas_sensor':
      return d.gas === 'co'
        ? { gas: 'co', concentration: 0, unit: 'ppm' }
        : { gas: d.gas, concentration: 0, unit: '%LEL' };
    case 'env_monitor':
      return { motion: false };
    case 'water_meter':
      return { litres: 1000 };
  }
}

/** A body whose only fault is a value outside its physical range. */
function outOfRange(d: SimDevice): Record<string, unknown> {
  switch (d.kind) {
    case 'wearable':
      return { heartRate: 900, worn: true };
    case 'gas_sensor':
      return d.gas === 'co'
        ? { gas: 'co', concentration: 20_000, unit: 'ppm' }
        : { gas: d.gas, concentration: 150, unit: '%LEL' };
    case 'env_monitor':
      return { temperature: 200 };
    case 'water_meter':
      return { litres: 1000, flowLpm: 500 };
  }
}

export function malformed(d: SimDevice, variant: MalformedVariant, ts: number, seq: number): Fault {
  const telemetry = topicFor(d.id, 'telemetry');
  switch (variant) {
    case 'json':
      return { payload: `{"ts":${ts},"seq":${seq},`, topic: telemetry, expect: 'E_JSON' };
    case 'schema':
      return { payload: { ts, seq, mood: 'restless' }, topic: telemetry, expect: 'E_SCHEMA' };
    case 'range':
      return { payload: { ts, seq, ...outOfRange(d) }, topic: telemetry, expect: 'E_RANGE' };
    case 'topic':
      return { payload: { ts, seq, ...validBody(d) }, topic: topicFor(d.id, 'config'), expect: 'E_TOPIC' };
    case 'too_large':
      return {
        payload: { ts, seq, ...validBody(d), note: 'x'.repeat(9000) },
        topic: telemetry,
        expect: 'E_TOO_LARGE',
      };
  }
}
