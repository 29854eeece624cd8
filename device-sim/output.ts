// What the simulated devices do, in time order: publish a message, lose or regain power, or start or stop
// using a wrong secret. The same stream drives a live MQTT run and a JSONL file, so both carry the same
// messages.
import type { ErrorCode, UplinkChannel } from '../firmware-protocol/index.ts';

/** A JSON object, or (for a malformed-payload fault) the raw text that is not valid JSON. */
export type Payload = Record<string, unknown> | string;

export type SimOutput =
  | {
      type: 'publish';
      /** Simulated time the device sends it; `payload.ts` differs only when its clock is skewed. */
      at: number;
      deviceId: string;
      channel: UplinkChannel;
      topic: string;
      payload: Payload;
      /** A redelivery of the previous message: same seq and ts. */
      dup: boolean;
      /** The refusal a fault scenario provokes, when it is one. */
      expect?: ErrorCode;
    }
  | { type: 'power'; at: number; deviceId: string; on: boolean }
  | { type: 'credentials'; at: number; deviceId: string; wrong: boolean };

export function payloadText(payload: Payload): string {
  return typeof payload === 'string' ? payload : JSON.stringify(payload);
}
