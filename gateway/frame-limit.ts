// Aedes (through mqtt-packet) buffers a whole packet before parsing it, whatever its declared length, so
// a client could make the broker hold up to 256 MB. This watcher reads only the MQTT fixed headers as the
// bytes pass and reports the first frame whose declared length is over the limit, before its body arrives.
import type { Readable } from 'node:stream';

/**
 * Observes `stream` with a 'data' listener. Attach it after Aedes has attached its 'readable' listener:
 * 'readable' then keeps control of the flow and 'data' only reports what Aedes reads.
 */
export function watchFrameSizes(
  stream: Readable,
  maxFrameBytes: number,
  onTooLarge: (declared: number) => void,
): void {
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let bodyLeft = 0;
  let tripped = false;

  stream.on('data', (chunk: Buffer) => {
    if (tripped) return;
    let i = 0;
    while (i < chunk.length) {
      if (state === 'type') {
        i += 1;
        state = 'length';
        length = 0;
        multiplier = 1;
      } else if (state === 'length') {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          if (length > maxFrameBytes) {
            tripped = true;
            onTooLarge(length);
            return;
          }
          bodyLeft = length;
          state = bodyLeft > 0 ? 'body' : 'type';
        } else if (multiplier > 128 ** 4) {
          return; // malformed length: mqtt-packet reports it to Aedes, which closes the connection
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
