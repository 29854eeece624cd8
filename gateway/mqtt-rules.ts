// MQTT 3.1.1 rules that Aedes 1.x leaves to the broker's owner. Each check names the rule it enforces, so
// a log line, a metric and a test all point at the same sentence of the specification.
import type { Duplex } from 'node:stream';
import type { PublishPacket } from 'aedes';

export type PublishRule = '[MQTT-1.5.3-1]' | '[MQTT-1.5.3-2]' | '[MQTT-2.3.1-1]';

/**
 * The rule a PUBLISH from a device breaks, if any. Breaking one closes the connection before anything
 * is acknowledged. `malformedTopics` are the decoded forms of topics that were not UTF-8 on the wire
 * (see wire-checks.ts): only there can a bad byte be told from a real U+FFFD.
 */
export function brokenPublishRule(
  packet: PublishPacket,
  malformedTopics: ReadonlySet<string> | undefined,
): PublishRule | undefined {
  if (malformedTopics?.has(packet.topic)) return '[MQTT-1.5.3-1]'; // not well-formed UTF-8
  if (packet.topic.includes('\u0000')) return '[MQTT-1.5.3-2]'; // U+0000 in a string
  if (packet.qos > 0 && packet.messageId === 0) return '[MQTT-2.3.1-1]'; // packet ids are non-zero
  return undefined;
}

/** MQTT 3.1.1 is protocol level 4; Aedes also accepts 3 (MQTT 3.1, "MQIsdp"), which Anju does not speak. */
export const SUPPORTED_PROTOCOL_LEVEL = 4;

// CONNACK, remaining length 2, no session present, return code 1 (unacceptable protocol version).
const CONNACK_UNACCEPTABLE_PROTOCOL = Buffer.from([0x20, 0x02, 0x00, 0x01]);

/**
 * [MQTT-3.1.2-2]: answers CONNACK 1 and then closes. Written here because Aedes lets level 3 through, its
 * authenticate hook cannot answer 1, and a level mqtt-packet cannot parse never reaches it at all.
 */
export function answerUnacceptableProtocol(stream: Duplex): void {
  stream.end(CONNACK_UNACCEPTABLE_PROTOCOL, () => stream.destroy());
}
