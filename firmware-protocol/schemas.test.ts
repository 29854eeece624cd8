// The payload schemas: every documented example is a message the gateway accepts, and the JSON Schema
// published to vendors states the rules that zod enforces in code.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_KINDS,
  DeviceConfig,
  EventByKind,
  GasTelemetry,
  Heartbeat,
  ProtocolError,
  Status,
  TelemetryByKind,
  WearableTelemetry,
  EnvTelemetry,
} from './schemas.ts';

const examples = (schema: z.ZodType) => (schema.meta()?.examples ?? []) as unknown[];

describe('examples', () => {
  it.each(DEVICE_KINDS)('of %s telemetry and events pass their schema', (kind) => {
    for (const schema of [TelemetryByKind[kind], EventByKind[kind]]) {
      expect(examples(schema).length).toBeGreaterThan(0);
      for (const example of examples(schema))
        expect(schema.safeParse(example).error?.issues ?? []).toEqual([]);
    }
  });

  it('of heartbeat, status, config and error pass their schema', () => {
    for (const schema of [Heartbeat, Status, DeviceConfig, ProtocolError]) {
      expect(examples(schema).length).toBeGreaterThan(0);
      for (const example of examples(schema))
        expect(schema.safeParse(example).error?.issues ?? []).toEqual([]);
    }
  });

  it("of one kind's telemetry are refused as another kind's telemetry", () => {
    for (const kind of DEVICE_KINDS) {
      for (const other of DEVICE_KINDS.filter((k) => k !== kind)) {
        for (const example of examples(TelemetryByKind[kind])) {
          expect(TelemetryByKind[other].safeParse(example).success, `${kind} as ${other}`).toBe(false);
        }
      }
    }
  });
});

describe('the JSON Schema given to vendors', () => {
  const jsonSchema = (schema: z.ZodType) =>
    z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;

  it('refuses unknown fields, as the gateway does', () => {
    expect(jsonSchema(WearableTelemetry).additionalProperties).toBe(false);
    expect(jsonSchema(Heartbeat).additionalProperties).toBe(false);
  });

  it('requires at least one measurement in a reading', () => {
    expect(jsonSchema(EnvTelemetry).anyOf).toEqual(
      ['temperature', 'humidity', 'motion', 'door', 'smoke', 'waterLeak'].map((f) => ({ required: [f] })),
    );
  });

  it('ties the unit and the ceiling of a gas reading to the gas', () => {
    expect(jsonSchema(GasTelemetry).oneOf).toEqual([
      {
        properties: {
          gas: { enum: ['methane', 'lpg'] },
          unit: { const: '%LEL' },
          concentration: { maximum: 100 },
        },
      },
      { properties: { gas: { const: 'co' }, unit: { const: 'ppm' }, concentration: { maximum: 10_000 } } },
    ]);
  });

  it('carries the unit of each measurement', () => {
    const properties = jsonSchema(WearableTelemetry).properties as Record<string, { unit?: string }>;
    expect(properties.heartRate?.unit).toBe('bpm');
    expect(properties.ts?.unit).toBe('ms');
  });
});
