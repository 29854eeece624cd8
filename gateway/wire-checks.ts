// Checks that need the bytes as they came over the wire, which mqtt-packet does not keep:
// - it buffers a whole packet before parsing it, whatever its declared length, so a client could make the
//   broker hold up to 256 MB: the declared length of each frame is checked before its body arrives;
// - it decodes a PUBLISH topic with replacement characters, so invalid UTF-8 ([MQTT-1.5.3-1]) cannot be
//   told apart from a topic that really contains U+FFFD: the topic's bytes are validated here.
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

export interface WireWatch {
  maxFrameBytes: number;
  /** The first frame declaring more than maxFrameBytes; nothing more is checked after it. */
  onTooLarge(declared: number): void;
  /** A PUBLISH topic that is not well-formed UTF-8, as mqtt-packet will decode it. */
  onMalformedTopic(decoded: string): void;
}

const PUBLISH = 3;

/**
 * Observes `stream` with a 'data' listener. Attach it after Aedes has attached its 'readable' listener:
 * 'readable' then keeps control of the flow, and 'data' reports each chunk Aedes reads just before
 * Aedes parses it, so a verdict is in place before the packet reaches the broker's hooks.
 */
export function watchWire(stream: Readable, watch: WireWatch): void {
  let state: 'type' | 'length' | 'topicLength' | 'topic' | 'body' = 'type';
  let type = 0;
  let length = 0;
  let multiplier = 1;
  let bodyLeft = 0;
  let topicLength = 0;
  let topicLengthBytes = 0;
  let topicLeft = 0;
  // The topic's bytes, in pieces only when it is split across chunks.
  let topicParts: Buffer[] = [];
  let tripped = false;

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
          topicLength = 0;
          topicLengthBytes = 0;
          state = type === PUBLISH && length >= 2 ? 'topicLength' : length > 0 ? 'body' : 'type';
        } else if (multiplier > 128 ** 4) {
          return; // malformed length: mqtt-packet reports it to Aedes, which closes the connection
        }
      } else if (state === 'topicLength') {
        topicLength = topicLength * 256 + chunk[i++]!;
        bodyLeft -= 1;
        topicLengthBytes += 1;
        if (topicLengthBytes === 2) {
          // A topic longer than its frame is malformed; mqtt-packet refuses it, the prefix is checked.
          topicLeft = Math.min(topicLength, bodyLeft);
          topicParts = [];
          state = topicLeft > 0 ? 'topic' : bodyLeft > 0 ? 'body' : 'type';
        }
      } else if (state === 'topic') {
        const take = Math.min(topicLeft, chunk.length - i);
        topicParts.push(chunk.subarray(i, i + take));
        i += take;
        topicLeft -= take;
        bodyLeft -= take;
        if (topicLeft === 0) {
          const topic = topicParts.length === 1 ? topicParts[0]! : Buffer.concat(topicParts);
          topicParts = [];
          if (!isUtf8(topic)) watch.onMalformedTopic(topic.toString('utf8'));
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
