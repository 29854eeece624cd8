// The payload contract for protocol v1. Each zod schema here is the single source of the TypeScript
// type, the gateway's validator, the JSON Schema in asyncapi.yaml and the vendor docs. Units and
// physical ranges live in the schema, so a heart rate of 900 is refused at the door.
import { z } from 'zod';

export const DEVICE_KINDS = ['wearable', 'gas_sensor', 'env_monitor', 'water_meter'] as const;
export const DeviceKind = z
  .enum(DEVICE_KINDS)
  .meta({ description: 'What a device is; fixed at registration.' });
export type DeviceKind = z.infer<typeof DeviceKind>;

// 2020-01-01T00:00:00Z .. 2100-01-01T00:00:00Z: anything outside is a device without a clock.
const TS_MIN = 1_577_836_800_000;
const TS_MAX = 4_102_444_800_000;

const ts = z
  .number()
  .int()
  .min(TS_MIN)
  .max(TS_MAX)
  .meta({ description: 'When the device measured this, in Unix milliseconds (UTC).', unit: 'ms' });
export const Seq = z
  .number()
  .int()
  .min(0)
  .max(4_294_967_295)
  .meta({
    description:
      'Per-device sequence number, counting up across all uplink messages and wrapping at 2^32. ' +
      'A QoS 1 redelivery carries the same number and is stored once.',
  });
const battery = z
  .number()
  .min(0)
  .max(100)
  .meta({ description: 'Battery charge in percent; omit for mains-powered devices.', unit: '%' });

const envelope = { ts, seq: Seq };

/** Requires at least one of the listed measurement fields, so an empty reading is refused. */
function atLeastOne<T extends z.ZodRawShape>(shape: T, fields: (keyof T & string)[]) {
  return (
    z
      .strictObject({ ...envelope, ...shape })
      .refine((msg) => fields.some((f) => (msg as Record<string, unknown>)[f] !== undefined), {
        message: `at least one of ${fields.join(', ')} is required`,
      })
      // The refinement is invisible to z.toJSONSchema; this says the same to JSON Schema readers.
      .meta({ anyOf: fields.map((f) => ({ required: [f] })) })
  );
}

// ---------------------------------------------------------------------------------------------- telemetry

export const WearableTelemetry = atLeastOne(
  {
    heartRate: z.number().int().min(20).max(250).optional().meta({ description: 'Pulse.', unit: 'bpm' }),
    spo2: z.number().min(50).max(100).optional().meta({ description: 'Blood oxygen saturation.', unit: '%' }),
    skinTemp: z
      .number()
      .min(20)
      .max(45)
      .optional()
      .meta({ description: 'Skin temperature; for trends, not core temperature.', unit: '°C' }),
    steps: z
      .number()
      .int()
      .min(0)
      .max(200_000)
      .optional()
      .meta({ description: 'Steps since local midnight.', unit: 'steps' }),
    activity: z
      .enum(['still', 'light', 'moderate', 'vigorous'])
      .optional()
      .meta({ description: 'Activity level over the last reporting interval.' }),
    worn: z.boolean().meta({ description: 'Whether the wearable is on the wrist (skin contact).' }),
    battery: battery.optional(),
  },
  ['heartRate', 'spo2', 'skinTemp', 'steps', 'activity', 'worn'],
).meta({
  title: 'WearableTelemetry',
  examples: [
    {
      ts: 1764000000000,
      seq: 42,
      heartRate: 72,
      spo2: 97,
      skinTemp: 33.4,
      steps: 1520,
      worn: true,
      battery: 81,
    },
  ],
});

export const GAS_TYPES = ['methane', 'lpg', 'co'] as const;

/** The unit and the ceiling follow the gas: % LEL up to 100 for methane and lpg, ppm up to 10000 for co. */
function checkGasUnit(
  msg: { gas: (typeof GAS_TYPES)[number]; unit: string; concentration: number },
  ctx: z.RefinementCtx,
) {
  const wanted = msg.gas === 'co' ? 'ppm' : '%LEL';
  if (msg.unit !== wanted) {
    ctx.addIssue({ code: 'custom', path: ['unit'], message: `${msg.gas} is reported in ${wanted}` });
    return;
  }
  const max = msg.gas === 'co' ? 10_000 : 100;
  if (msg.concentration > max) {
    ctx.addIssue({
      code: 'too_big',
      origin: 'number',
      maximum: max,
      inclusive: true,
      path: ['concentration'],
      input: msg.concentration,
      message: `Too big: ${msg.gas} concentration must be <= ${max} ${wanted}`,
    });
  }
}

/** checkGasUnit for JSON Schema readers, since z.toJSONSchema cannot see refinements. */
const GAS_UNIT_JSON_SCHEMA = {
  oneOf: [
    {
      properties: {
        gas: { enum: ['methane', 'lpg'] },
        unit: { const: '%LEL' },
        concentration: { maximum: 100 },
      },
    },
    { properties: { gas: { const: 'co' }, unit: { const: 'ppm' }, concentration: { maximum: 10_000 } } },
  ],
};

export const GasTelemetry = z
  .strictObject({
    ...envelope,
    gas: z
      .enum(GAS_TYPES)
      .meta({ description: 'methane (natural gas), lpg (propane/butane) or co (carbon monoxide).' }),
    concentration: z
      .number()
      .min(0)
      .meta({ description: 'In % LEL for methane and lpg (0-100), in ppm for co (0-10000).' }),
    unit: z
      .enum(['%LEL', 'ppm'])
      .meta({ description: 'The unit of concentration: %LEL for methane and lpg, ppm for co.' }),
    sensorFault: z.boolean().optional().meta({ description: 'The sensor reports a fault of its own.' }),
    sensorAgeDays: z
      .number()
      .int()
      .min(0)
      .max(20_000)
      .optional()
      .meta({ description: 'Days since the sensing element was installed.', unit: 'd' }),
    valve: z
      .enum(['open', 'closed', 'absent'])
      .optional()
      .meta({ description: 'State of a linked shut-off valve.' }),
    battery: battery.optional(),
  })
  .superRefine(checkGasUnit)
  .meta(GAS_UNIT_JSON_SCHEMA)
  .meta({
    title: 'GasTelemetry',
    examples: [
      {
        ts: 1764000000000,
        seq: 7,
        gas: 'methane',
        concentration: 3.5,
        unit: '%LEL',
        sensorAgeDays: 400,
        valve: 'open',
      },
      { ts: 1764000000000, seq: 8, gas: 'co', concentration: 12, unit: 'ppm' },
    ],
  });

export const ROOMS = ['bedroom', 'living', 'kitchen', 'bathroom', 'entrance', 'other'] as const;

export const EnvTelemetry = atLeastOne(
  {
    temperature: z
      .number()
      .min(-40)
      .max(85)
      .optional()
      .meta({ description: 'Room temperature.', unit: '°C' }),
    humidity: z.number().min(0).max(100).optional().meta({ description: 'Relative humidity.', unit: '%' }),
    motion: z.boolean().optional().meta({ description: 'Motion seen since the last report.' }),
    door: z.enum(['open', 'closed']).optional().meta({ description: 'Door contact state.' }),
    smoke: z.boolean().optional().meta({ description: 'Smoke detector in alarm.' }),
    waterLeak: z.boolean().optional().meta({ description: 'Water on the floor sensor.' }),
    battery: battery.optional(),
  },
  ['temperature', 'humidity', 'motion', 'door', 'smoke', 'waterLeak'],
).meta({
  title: 'EnvTelemetry',
  examples: [{ ts: 1764000000000, seq: 3, temperature: 21.5, humidity: 48, motion: true, battery: 90 }],
});

export const WaterMeterTelemetry = z
  .strictObject({
    ...envelope,
    litres: z
      .number()
      .min(0)
      .max(1_000_000_000)
      .meta({ description: 'Cumulative volume through the meter since installation.', unit: 'L' }),
    flowLpm: z.number().min(0).max(200).optional().meta({ description: 'Current flow.', unit: 'L/min' }),
    battery: battery.optional(),
  })
  .meta({
    title: 'WaterMeterTelemetry',
    examples: [{ ts: 1764000000000, seq: 19, litres: 123456.5, flowLpm: 0 }],
  });

export const TelemetryByKind = {
  wearable: WearableTelemetry,
  gas_sensor: GasTelemetry,
  env_monitor: EnvTelemetry,
  water_meter: WaterMeterTelemetry,
} as const;

export type WearableTelemetry = z.infer<typeof WearableTelemetry>;
export type GasTelemetry = z.infer<typeof GasTelemetry>;
export type EnvTelemetry = z.infer<typeof EnvTelemetry>;
export type WaterMeterTelemetry = z.infer<typeof WaterMeterTelemetry>;

// ------------------------------------------------------------------------------------------------- events

const FallEvent = z.strictObject({
  ...envelope,
  type: z.literal('fall'),
  confidence: z
    .number()
    .min(0)
    .max(1)
    .meta({ description: "The device's own confidence that this was a fall." }),
  cancellable: z.boolean().meta({ description: 'The wearer can still cancel it on the device.' }),
  cancelWindowS: z
    .number()
    .int()
    .min(0)
    .max(300)
    .optional()
    .meta({ description: 'How long the wearer has to cancel.', unit: 's' }),
});
const FallCancelledEvent = z.strictObject({
  ...envelope,
  type: z.literal('fall_cancelled'),
  fallSeq: Seq.meta({ description: 'The seq of the fall event the wearer cancelled.' }),
});
const SosEvent = z.strictObject({ ...envelope, type: z.literal('sos') });

export const WearableEvent = z.discriminatedUnion('type', [FallEvent, FallCancelledEvent, SosEvent]).meta({
  title: 'WearableEvent',
  examples: [
    { ts: 1764000000000, seq: 43, type: 'fall', confidence: 0.86, cancellable: true, cancelWindowS: 30 },
    { ts: 1764000012000, seq: 44, type: 'fall_cancelled', fallSeq: 43 },
    { ts: 1764000000000, seq: 45, type: 'sos' },
  ],
});

export const GasEvent = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        ...envelope,
        type: z.literal('gas_alarm'),
        gas: z.enum(GAS_TYPES).meta({ description: 'The gas in alarm.' }),
        concentration: z.number().min(0).meta({ description: 'As in gas telemetry: % LEL, or ppm for co.' }),
        unit: z
          .enum(['%LEL', 'ppm'])
          .meta({ description: 'The unit of concentration: %LEL for methane and lpg, ppm for co.' }),
      })
      .superRefine(checkGasUnit)
      .meta(GAS_UNIT_JSON_SCHEMA),
    z.strictObject({
      ...envelope,
      type: z.literal('sensor_fault'),
      detail: z.string().max(200).optional().meta({ description: 'What the sensor says is wrong.' }),
    }),
  ])
  .meta({
    title: 'GasEvent',
    examples: [
      { ts: 1764000000000, seq: 9, type: 'gas_alarm', gas: 'methane', concentration: 27, unit: '%LEL' },
    ],
  });

export const EnvEvent = z
  .discriminatedUnion('type', [
    z.strictObject({ ...envelope, type: z.literal('motion') }),
    z.strictObject({
      ...envelope,
      type: z.literal('door'),
      state: z.enum(['open', 'closed']).meta({ description: 'The door contact after the change.' }),
    }),
    z.strictObject({ ...envelope, type: z.literal('smoke_alarm') }),
    z.strictObject({ ...envelope, type: z.literal('water_leak') }),
  ])
  .meta({
    title: 'EnvEvent',
    examples: [
      { ts: 1764000000000, seq: 4, type: 'door', state: 'open' },
      { ts: 1764000000000, seq: 5, type: 'smoke_alarm' },
    ],
  });

export const WaterMeterEvent = z
  .discriminatedUnion('type', [
    z.strictObject({
      ...envelope,
      type: z.literal('continuous_flow'),
      minutes: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .meta({ description: 'How long water has flowed without a pause.', unit: 'min' }),
    }),
  ])
  .meta({
    title: 'WaterMeterEvent',
    examples: [{ ts: 1764000000000, seq: 20, type: 'continuous_flow', minutes: 180 }],
  });

export const EventByKind = {
  wearable: WearableEvent,
  gas_sensor: GasEvent,
  env_monitor: EnvEvent,
  water_meter: WaterMeterEvent,
} as const;

export type WearableEvent = z.infer<typeof WearableEvent>;
export type GasEvent = z.infer<typeof GasEvent>;
export type EnvEvent = z.infer<typeof EnvEvent>;
export type WaterMeterEvent = z.infer<typeof WaterMeterEvent>;

// ------------------------------------------------------------------------------------ heartbeat and status

export const Heartbeat = z
  .strictObject({
    ...envelope,
    firmware: z.string().min(1).max(32).meta({ description: 'Firmware version string.' }),
    rssi: z.number().int().min(-130).max(0).meta({ description: 'Received signal strength.', unit: 'dBm' }),
    battery: battery.optional(),
    uptime: z.number().int().min(0).meta({ description: 'Seconds since the device booted.', unit: 's' }),
  })
  .meta({
    title: 'Heartbeat',
    examples: [{ ts: 1764000000000, seq: 100, firmware: '1.4.2', rssi: -67, battery: 77, uptime: 86400 }],
  });
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Retained presence. Devices set `offline` as their last will and publish `online` after connecting. */
export const Status = z
  .strictObject({
    state: z
      .enum(['online', 'offline'])
      .meta({ description: 'online after connecting; offline as the last will.' }),
    ts: ts.optional().meta({ description: 'When the state changed, in Unix milliseconds (UTC).' }),
  })
  .meta({ title: 'Status', examples: [{ state: 'online', ts: 1764000000000 }, { state: 'offline' }] });
export type Status = z.infer<typeof Status>;

// --------------------------------------------------------------------------------------------- downlink

export const DeviceConfig = z
  .strictObject({
    ts: ts.meta({ description: 'When Anju sent this, in Unix milliseconds (UTC).' }),
    reportIntervalS: z.number().int().min(5).max(3600).meta({ description: 'Telemetry period.', unit: 's' }),
    heartbeatIntervalS: z
      .number()
      .int()
      .min(30)
      .max(86_400)
      .meta({ description: 'Heartbeat period.', unit: 's' }),
  })
  .meta({
    title: 'DeviceConfig',
    examples: [{ ts: 1764000000000, reportIntervalS: 60, heartbeatIntervalS: 300 }],
  });
export type DeviceConfig = z.infer<typeof DeviceConfig>;

export const ERROR_CODES = {
  E_JSON: 'The payload is not UTF-8 JSON.',
  E_TOO_LARGE: 'The payload is larger than the gateway accepts.',
  E_SCHEMA:
    'A field is missing, unknown or of the wrong type, or the message is not one this device kind sends.',
  E_RANGE: 'A value is outside its physical range.',
  E_CLOCK: 'The timestamp is too far from the gateway clock (more than 5 minutes ahead or 7 days behind).',
  E_TOPIC: 'The topic is not an Anju v1 uplink topic of this device.',
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export const ProtocolError = z
  .strictObject({
    ts: ts.meta({ description: 'When Anju sent this, in Unix milliseconds (UTC).' }),
    code: z
      .enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])
      .meta({ description: 'Why; see the error codes.' }),
    message: z.string().meta({ description: 'The problems found, for people.' }),
    topic: z.string().meta({ description: 'The topic the refused message was published to.' }),
    seq: Seq.nullable().meta({ description: 'The seq of the refused message, when it could be read.' }),
    issues: z
      .array(z.strictObject({ path: z.string(), message: z.string() }))
      .meta({ description: 'One entry per problem found, with the JSON path of the field.' }),
  })
  .meta({
    title: 'ProtocolError',
    examples: [
      {
        ts: 1764000000000,
        code: 'E_RANGE',
        message: 'heartRate: Too big: expected number to be <=250',
        topic: 'anju/v1/wb-0001/telemetry',
        seq: 42,
        issues: [{ path: 'heartRate', message: 'Too big: expected number to be <=250' }],
      },
    ],
  });
export type ProtocolError = z.infer<typeof ProtocolError>;
