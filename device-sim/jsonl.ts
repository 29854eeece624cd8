// Writes a run as JSONL for `anju replay`: one line per message, `{"topic": ..., "payload": {...}}`, in the
// order the devices sent them. A device losing or regaining power becomes the retained status message the
// broker (its will) or the device would have published. A payload that is not JSON (the `malformed` fault,
// variant `json`) is written as a string holding the raw text.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { topicFor } from '../firmware-protocol/index.ts';
import type { Community } from './community.ts';
import type { SimOutput } from './output.ts';
import type { SimStats } from './stats.ts';

export class JsonlSink {
  private readonly stream: WriteStream;

  constructor(
    file: string,
    private readonly stats: SimStats,
  ) {
    this.stream = createWriteStream(file, { encoding: 'utf8' });
  }

  dispatch(o: SimOutput): undefined {
    if (o.type === 'publish') {
      this.stats.countSent(o);
      this.write(o.topic, o.payload);
    } else if (o.type === 'power') {
      this.stats.countSent({ channel: 'status' });
      this.write(topicFor(o.deviceId, 'status'), { state: o.on ? 'online' : 'offline', ts: o.at });
    }
    // A wrong secret is refused at CONNECT: nothing reaches a replay.
    return undefined;
  }

  async ready(): Promise<void> {
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }

  private write(topic: string, payload: unknown): void {
    this.stream.write(JSON.stringify({ topic, payload }) + '\n');
  }
}

/**
 * The devices file `anju replay --devices` reads instead of a registry: the simulator's resident names
 * (`resident-3`) stand for resident ids, and `home-3` for their home.
 */
export function replayDevices(
  community: Community,
): Record<string, { kind: string; residentId?: string; homeId: string; room?: string }> {
  const devices: ReturnType<typeof replayDevices> = {};
  for (const d of community.devices) {
    const homeId = d.residentKey.replace('resident-', 'home-');
    devices[d.id] =
      d.kind === 'wearable'
        ? { kind: d.kind, residentId: d.residentKey, homeId }
        : { kind: d.kind, homeId, ...(d.room ? { room: d.room } : {}) };
  }
  return devices;
}
