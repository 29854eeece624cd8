// The published contract: the committed AsyncAPI document is the generator's output, a valid AsyncAPI 3
// document, and its examples are messages the gateway accepts.
import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';
import type { AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_MESSAGES, buildAsyncApiDocument } from './asyncapi.ts';
import { ASYNCAPI_YAML_PATH, renderAsyncApiYaml } from './asyncapi-generate.ts';
import { DEVICE_KINDS, EventByKind, TelemetryByKind } from './schemas.ts';
import { DOWNLINK_CHANNELS, UPLINK_CHANNELS, topicFor } from './topics.ts';

let committed: string;
let document: AsyncAPIDocumentInterface;

beforeAll(async () => {
  committed = await readFile(ASYNCAPI_YAML_PATH, 'utf8');
  const { document: parsed, diagnostics } = await new Parser().parse(committed);
  // Severity 0 is an error; warnings and hints (such as "3.1.0 exists") do not make the document invalid.
  expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual(
    [],
  );
  document = parsed!;
});

describe('asyncapi.yaml', () => {
  it('is exactly what `npm run asyncapi:generate` writes from the schemas', () => {
    expect(committed, 'asyncapi.yaml is stale: run `npm run asyncapi:generate`').toBe(renderAsyncApiYaml());
  });

  it('says it is generated and by which command', () => {
    expect(committed.split('\n')[0]).toMatch(/^# GENERATED .*npm run asyncapi:generate/);
  });

  it('parses as an AsyncAPI 3.0.0 document titled Anju device protocol, version 1.x', () => {
    expect(document.version()).toBe('3.0.0');
    expect(document.info().title()).toBe('Anju device protocol');
    expect(document.info().version()).toMatch(/^1\.\d+\.\d+$/);
  });

  it('offers MQTT on 1883, MQTTS on 8883 and WebSocket at /mqtt on 8080, each with a user and password', () => {
    const servers = document.servers();
    expect(servers.get('mqtt')?.host()).toBe('{host}:1883');
    expect(servers.get('mqtt')?.protocol()).toBe('mqtt');
    expect(servers.get('mqtts')?.host()).toBe('{host}:8883');
    expect(servers.get('mqtts')?.protocol()).toBe('secure-mqtt');
    expect(servers.get('ws')?.host()).toBe('{host}:8080');
    expect(servers.get('ws')?.pathname()).toBe('/mqtt');
    for (const server of servers.all()) {
      expect(server.protocolVersion()).toBe('3.1.1');
      expect(server.security().flatMap((req) => req.all().map((s) => s.scheme().type()))).toEqual([
        'userPassword',
      ]);
      expect(server.bindings().get('mqtt')?.value()).toMatchObject({
        lastWill: {
          topic: 'anju/v1/{deviceId}/status',
          qos: 1,
          message: '{"state":"offline"}',
          retain: true,
        },
      });
    }
  });

  it('has one channel per topic of topics.ts, each with the deviceId parameter', () => {
    const channels = [...UPLINK_CHANNELS, ...DOWNLINK_CHANNELS];
    expect(
      document
        .channels()
        .all()
        .map((c) => c.id())
        .sort(),
    ).toEqual([...channels].sort());
    for (const name of channels) {
      const channel = document.channels().get(name)!;
      expect(channel.address()).toBe(topicFor('{deviceId}', name));
      expect(
        channel
          .parameters()
          .all()
          .map((p) => p.id()),
      ).toEqual(['deviceId']);
    }
  });

  it("has a telemetry and an event message for every device kind, judged by that kind's schema", () => {
    const names = (channel: string) =>
      document
        .channels()
        .get(channel)!
        .messages()
        .all()
        .map((m) => m.id());
    for (const kind of DEVICE_KINDS) {
      const telemetry = PROTOCOL_MESSAGES.find((m) => m.schema === TelemetryByKind[kind]);
      const event = PROTOCOL_MESSAGES.find((m) => m.schema === EventByKind[kind]);
      expect(names('telemetry'), kind).toContain(telemetry?.name);
      expect(names('event'), kind).toContain(event?.name);
    }
    for (const channel of ['heartbeat', 'status', 'config', 'error'])
      expect(names(channel)).toEqual([channel]);
  });

  it('lets the device send on uplink topics and receive on downlink topics, with MQTT QoS and retain', () => {
    const operations = Object.fromEntries(
      document
        .operations()
        .all()
        .map((o) => [o.channels().all()[0]!.id(), o]),
    );
    for (const name of UPLINK_CHANNELS) expect(operations[name]?.action()).toBe('send');
    for (const name of DOWNLINK_CHANNELS) expect(operations[name]?.action()).toBe('receive');
    const mqtt = (name: string) => operations[name]!.bindings().get('mqtt')?.value();
    expect(mqtt('telemetry')).toMatchObject({ qos: 1, retain: false });
    expect(mqtt('event')).toMatchObject({ qos: 1, retain: false });
    expect(mqtt('status')).toMatchObject({ qos: 1, retain: true });
    expect(mqtt('config')).toMatchObject({ qos: 1, retain: true });
  });

  it('gives every message a JSON Schema draft-07 payload and at least one example', () => {
    for (const message of document.allMessages()) {
      expect(message.payload()?.schemaFormat(), message.id()).toBe(
        'application/schema+json;version=draft-07',
      );
      expect(message.examples().length, message.id()).toBeGreaterThan(0);
    }
  });

  it('has only examples (of messages and of payload schemas) that pass the schema the gateway validates with', () => {
    const messages = document.allMessages();
    expect(messages.length).toBe(PROTOCOL_MESSAGES.length);
    for (const message of messages) {
      const spec = PROTOCOL_MESSAGES.find((m) => m.name === message.id());
      expect(spec, message.id()).toBeDefined();
      const examples = [
        ...message
          .examples()
          .all()
          .map((e) => e.payload()),
        ...(message.payload()?.examples() ?? []),
      ];
      expect(examples.length, message.id()).toBeGreaterThan(1);
      for (const example of examples) {
        const result = spec!.schema.safeParse(example);
        expect(result.error?.issues ?? [], `${message.id()} ${JSON.stringify(example)}`).toEqual([]);
      }
    }
  });
});

describe('buildAsyncApiDocument', () => {
  it('takes the payload schemas from zod, so a schema change shows up in the document', () => {
    const doc = buildAsyncApiDocument() as {
      components: {
        messages: Record<string, { payload: { schema: { properties: Record<string, unknown> } } }>;
      };
    };
    expect(doc.components.messages.wearableTelemetry?.payload.schema.properties.heartRate).toMatchObject({
      type: 'integer',
      minimum: 20,
      maximum: 250,
      unit: 'bpm',
    });
  });
});
