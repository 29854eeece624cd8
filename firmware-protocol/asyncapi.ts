// The AsyncAPI 3 document for device vendors, built from the zod schemas so that the published contract
// cannot drift from what the gateway enforces. It describes a device: the device sends the uplink
// messages and receives the downlink ones.
import { z } from 'zod';
import { MAX_PAYLOAD_BYTES } from './decode.ts';
import {
  DEVICE_KINDS,
  DeviceConfig,
  EventByKind,
  Heartbeat,
  ProtocolError,
  Status,
  TelemetryByKind,
  type DeviceKind,
} from './schemas.ts';
import {
  DOWNLINK_CHANNELS,
  PROTOCOL_VERSION,
  UPLINK_CHANNELS,
  isUplink,
  topicFor,
  type Channel,
} from './topics.ts';

/** One message of the protocol: its key in the document, where it travels and the schema that judges it. */
export interface ProtocolMessage {
  name: string;
  channel: Channel;
  title: string;
  summary: string;
  schema: z.ZodType;
}

const KIND_TITLES: Record<DeviceKind, string> = {
  wearable: 'Wearable',
  gas_sensor: 'Gas sensor',
  env_monitor: 'Environment monitor',
  water_meter: 'Water meter',
};

const camel = (kind: DeviceKind) => kind.replace(/_(.)/g, (_, c: string) => c.toUpperCase());

/** Every message, in the order the document and the vendor guide list them. */
export const PROTOCOL_MESSAGES: readonly ProtocolMessage[] = [
  ...DEVICE_KINDS.map((kind) => ({
    name: `${camel(kind)}Telemetry`,
    channel: 'telemetry' as const,
    title: `${KIND_TITLES[kind]} telemetry`,
    summary: `Periodic readings from devices of kind ${kind}.`,
    schema: TelemetryByKind[kind],
  })),
  ...DEVICE_KINDS.map((kind) => ({
    name: `${camel(kind)}Event`,
    channel: 'event' as const,
    title: `${KIND_TITLES[kind]} event`,
    summary: `What happened on a device of kind ${kind}, sent the moment it happens.`,
    schema: EventByKind[kind],
  })),
  {
    name: 'heartbeat',
    channel: 'heartbeat',
    title: 'Heartbeat',
    summary: 'Device health: firmware, signal strength, uptime.',
    schema: Heartbeat,
  },
  {
    name: 'status',
    channel: 'status',
    title: 'Status',
    summary: 'Presence: the last will says offline; the device says online after connecting.',
    schema: Status,
  },
  {
    name: 'config',
    channel: 'config',
    title: 'Device configuration',
    summary: 'Settings from Anju, retained so that a device gets them when it subscribes.',
    schema: DeviceConfig,
  },
  {
    name: 'error',
    channel: 'error',
    title: 'Protocol error',
    summary: "The gateway's answer to a message it refused.",
    schema: ProtocolError,
  },
];

/** How each channel is used: the QoS and retain flag a device publishes (or receives) with. */
const CHANNEL_USE: Record<Channel, { qos: 0 | 1; retain: boolean; description: string }> = {
  telemetry: {
    qos: 1,
    retain: false,
    description:
      'Periodic readings. Publish at QoS 1: the PUBACK means Anju has the reading in its durable journal. ' +
      'QoS 0 is accepted but best effort.',
  },
  event: {
    qos: 1,
    retain: false,
    description: 'Falls, SOS presses, alarms: publish at QoS 1 the moment they happen.',
  },
  heartbeat: {
    qos: 0,
    retain: false,
    description: 'Device health at the heartbeat interval. QoS 0 is enough; QoS 1 is accepted.',
  },
  status: {
    qos: 1,
    retain: true,
    description:
      'Presence. Set the last will to {"state":"offline"} on this topic (QoS 1, retained) and publish ' +
      '{"state":"online"} retained right after connecting.',
  },
  config: {
    qos: 1,
    retain: true,
    description: 'Settings from Anju, published retained; subscribe at QoS 1 after connecting.',
  },
  error: {
    qos: 1,
    retain: false,
    description:
      'One message per refused uplink message, naming the code, the topic and the seq. The refused message ' +
      'was acknowledged and dropped: do not resend it.',
  },
};

// Where `anju serve` listens by default; operators put their own host name in the `host` variable.
const SERVERS = [
  { key: 'mqtt', port: 1883, protocol: 'mqtt', title: 'MQTT over TCP' },
  {
    key: 'mqtts',
    port: 8883,
    protocol: 'secure-mqtt',
    title: 'MQTT over TLS, when the operator configures a certificate',
  },
  { key: 'ws', port: 8080, protocol: 'ws', title: 'MQTT over WebSocket', pathname: '/mqtt' },
] as const;

const MQTT_BINDING_VERSION = '0.2.0';

const jsonSchemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-7' });

function examplesOf(schema: z.ZodType): unknown[] {
  const examples = schema.meta()?.examples;
  return Array.isArray(examples) ? examples : [];
}

const ref = (path: string) => ({ $ref: `#/${path}` });

function message(m: ProtocolMessage) {
  return {
    name: m.name,
    title: m.title,
    summary: m.summary,
    contentType: 'application/json',
    payload: { schemaFormat: 'application/schema+json;version=draft-07', schema: jsonSchemaOf(m.schema) },
    examples: examplesOf(m.schema).map((payload, i) => ({ name: `${m.name}${i + 1}`, payload })),
  };
}

function channel(name: Channel) {
  return {
    address: topicFor('{deviceId}', name),
    title: name,
    description: CHANNEL_USE[name].description,
    parameters: { deviceId: ref('components/parameters/deviceId') },
    messages: Object.fromEntries(
      PROTOCOL_MESSAGES.filter((m) => m.channel === name).map((m) => [
        m.name,
        ref(`components/messages/${m.name}`),
      ]),
    ),
  };
}

function operation(name: Channel) {
  const use = CHANNEL_USE[name];
  return {
    action: isUplink(name) ? 'send' : 'receive',
    channel: ref(`channels/${name}`),
    summary: isUplink(name)
      ? `Publish to ${topicFor('{deviceId}', name)}.`
      : `Subscribe to ${topicFor('{deviceId}', name)}.`,
    messages: PROTOCOL_MESSAGES.filter((m) => m.channel === name).map((m) =>
      ref(`channels/${name}/messages/${m.name}`),
    ),
    bindings: { mqtt: { qos: use.qos, retain: use.retain, bindingVersion: MQTT_BINDING_VERSION } },
  };
}

const operationId = (name: Channel) =>
  `${isUplink(name) ? 'send' : 'receive'}${name[0]!.toUpperCase()}${name.slice(1)}`;

export function buildAsyncApiDocument(): object {
  const channels = [...UPLINK_CHANNELS, ...DOWNLINK_CHANNELS];
  return {
    asyncapi: '3.0.0',
    id: `urn:anju:device-protocol:${PROTOCOL_VERSION}`,
    info: {
      title: 'Anju device protocol',
      version: `${PROTOCOL_VERSION.slice(1)}.0.0`,
      description: [
        'The MQTT contract between home devices and Anju (安居), which watches over older people who live alone.',
        '',
        '- MQTT 3.1.1. The client id MUST equal the device id; the username is the device id and the password',
        '  the device secret printed once by `anju device add`. Keepalive 1-1200 s.',
        '- Payloads are UTF-8 JSON objects of at most ' +
          `${MAX_PAYLOAD_BYTES} bytes, timestamps in Unix milliseconds.`,
        '- A refused message is acknowledged, dropped and answered on `anju/v1/{deviceId}/error`.',
        '',
        'The vendor guide, docs/firmware-protocol.md, explains each rule.',
      ].join('\n'),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: Object.fromEntries(
      SERVERS.map((s) => [
        s.key,
        {
          host: `{host}:${s.port}`,
          ...('pathname' in s ? { pathname: s.pathname } : {}),
          protocol: s.protocol,
          protocolVersion: '3.1.1',
          title: s.title,
          variables: { host: { default: 'localhost', description: 'The Anju server the operator runs.' } },
          security: [ref('components/securitySchemes/deviceSecret')],
          bindings: {
            mqtt: {
              cleanSession: true,
              keepAlive: 60,
              lastWill: {
                topic: topicFor('{deviceId}', 'status'),
                qos: 1,
                message: JSON.stringify({ state: 'offline' }),
                retain: true,
              },
              bindingVersion: MQTT_BINDING_VERSION,
            },
          },
        },
      ]),
    ),
    channels: Object.fromEntries(channels.map((c) => [c, channel(c)])),
    operations: Object.fromEntries(channels.map((c) => [operationId(c), operation(c)])),
    components: {
      parameters: {
        deviceId: {
          description:
            'The device id given by `anju device add`: 3-64 characters, letters, digits, ".", "_" and "-", ' +
            'starting with a letter or digit. A device may use only its own id.',
          examples: ['wb-0001'],
        },
      },
      securitySchemes: {
        deviceSecret: {
          type: 'userPassword',
          description:
            'Username: the device id (the MQTT client id must be the same). Password: the device secret.',
        },
      },
      messages: Object.fromEntries(PROTOCOL_MESSAGES.map((m) => [m.name, message(m)])),
    },
  };
}
