// Checks that need the bytes as they came over the wire, which mqtt-packet does not keep:
// - it buffers a whole packet before parsing it, whatever its declared length, so a client could make the
//   broker hold up to 256 MB: the declared length of each frame is checked before its body arrives;
// - it decodes a PUBLISH topic with replacement characters, so invalid UTF-8 ([MQTT-1.5.3-1]) cannot be
//   told apart from a topic that really contains U+FFFD: the topic's bytes are validated here;
// - it fails a CONNECT whose protocol level is not 3, 4 or 5 before the broker sees it, so Aedes closes
//   the connection without the CONNACK 1 that [MQTT-3.1.2-2] asks for: the level is read here.
// PUBLISH and CONNECT both begin with an MQTT string (the topic, the protocol name), read the same way.
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

export interface WireWatch {
  maxFrameBytes: number;
  /** The first frame declaring more than maxFrameBytes; nothing more is checked after it. */
  onTooLarge(declared: number): void;
  /** A PUBLISH topic that is not well-formed UTF-8, as mqtt-packet will decode it. */
  onMalformedTopic(decoded: string): void;
  /** A CONNECT of MQTT (or MQIsdp) at a level mqtt-packet refuses to parse. */
  onUnparsableProtocolLevel(level: number): void;
}

const CONNECT = 1;
const PUBLISH = 3;
const PARSED_LEVELS = new Set([3, 4, 5]);
const PROTOCOL_NAMES = new Set(['MQTT', 'MQIsdp']);

/**
 * Observes `stream` with a 'data' listener. Attach it after Aedes has attached its 'readable' listener:
 * 'readable' then keeps control of the flow, and 'data' reports each chunk Aedes reads just before
 * Aedes parses it, so a verdict is in place before the packet reaches the broker's hooks.
 */
export function watchWire(stream: Readable, watch: WireWatch): void {
  let state: 'type' | 'length' | 'stringLength' | 'string' | 'body' = 'type';
  let type = 0;
  let length = 0;
  let multiplier = 1;
  let bodyLeft = 0;
  let stringLength = 0;
  let stringLengthBytes = 0;
  let stringLeft = 0;
  // The string's bytes (and for CONNECT the level byte after it), in pieces only across chunks.
  let stringParts: Buffer[] = [];
  let tripped = false;

  const checkString = (bytes: Buffer): void => {
    if (type === PUBLISH) {
      if (!isUtf8(bytes)) watch.onMalformedTopic(bytes.toString('utf8'));
    } else if (bytes.length === stringLength + 1) {
      const level = bytes[stringLength]! & 0x7f; // the high bit marks a bridge, as mqtt-packet reads it
      const name = bytes.subarray(0, stringLength).toString('utf8');
      if (PROTOCOL_NAMES.has(name) && !PARSED_LEVELS.has(level)) watch.onUnparsableProtocolLevel(level);
    }
  };

  stream.on('data', (chunk: Buffer) => {
    if (tripped) return;
    let i = 0;
    while (i < chunk.length) {
      if (state === 'type') {
        type = chunk[i++]! >> 4;
        state = 'length';
        length = 0;
        multiplier = 1;
      } else if (state === 'length') {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          if (length > watch.maxFrameBytes) {
            tripped = true;
            watch.onTooLarge(length);
            return;
          }
          bodyLeft = length;
          stringLength = 0;
          stringLengthBytes = 0;
          const leadingString = (type === PUBLISH || type === CONNECT) && length >= 2;
          state = leadingString ? 'stringLength' : length > 0 ? 'body' : 'type';
        } else if (multiplier > 128 ** 4) {
          return; // malformed length: mqtt-packet reports it to Aedes, which closes the connection
        }
      } else if (state === 'stringLength') {
        stringLength = stringLength * 256 + chunk[i++]!;
        bodyLeft -= 1;
        stringLengthBytes += 1;
        if (stringLengthBytes === 2) {
          // A string longer than its frame is malformed; mqtt-packet refuses it, the prefix is checked.
          stringLeft = Math.min(stringLength + (type === CONNECT ? 1 : 0), bodyLeft);
          stringParts = [];
          state = stringLeft > 0 ? 'string' : bodyLeft > 0 ? 'body' : 'type';
        }
      } else if (state === 'string') {
        const take = Math.min(stringLeft, chunk.length - i);
        stringParts.push(chunk.subarray(i, i + take));
        i += take;
        stringLeft -= take;
        bodyLeft -= take;
        if (stringLeft === 0) {
          checkString(stringParts.length === 1 ? stringParts[0]! : Buffer.concat(stringParts));
          stringParts = [];
          state = bodyLeft > 0 ? 'body' : 'type';
        }
      } else {
        const take = Math.min(bodyLeft, chunk.length - i);
        i += take;
        bodyLeft -= take;
        if (bodyLeft === 0) state = 'type';
      }
    }
  });
}
