// Load mode: many devices publishing QoS 1 as fast as their in-flight window allows (or at a set aggregate
// rate), over real MQTT. Used by `anju sim --load` and by the benchmarks, so both measure the same thing.
import type { MqttClient } from 'mqtt';
import { connectOnce, sourceAddress } from './connect.ts';
import { TokenBucket } from './token-bucket.ts';

export interface LoadDevice {
  id: string;
  /** Omitted for a broker without authentication (bare Aedes in the benchmarks). */
  secret?: string;
}

export interface LoadOptions {
  url: string;
  devices: LoadDevice[];
  messagesPerDevice: number;
  /** QoS 1 publishes each device keeps in flight. */
  window: number;
  /** Publishes per second across all devices; without it, as fast as the windows allow. */
  rate?: number;
  topic: (deviceId: string) => string;
  payload: (deviceId: string, seq: number) => string;
  onProgress?: (acked: number, total: number) => void;
  /** Called at each PUBACK, in the order they arrive, with when that message was published. */
  onAck?: (publishedAt: number, ackedAt: number) => void;
  /** Runs once every device is connected, before the first publish (a benchmark's starting line). */
  beforePublish?: () => Promise<void>;
}

export interface LoadResult {
  devices: number;
  sent: number;
  acked: number;
  failed: number;
  durationMs: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function connectAll(opts: LoadOptions): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  // Connect in small groups: a connect storm measures the scrypt check, not steady throughput.
  for (let i = 0; i < opts.devices.length; i += 50) {
    const group = opts.devices.slice(i, i + 50);
    clients.push(
      ...(await Promise.all(
        group.map((d, j) =>
          connectOnce(
            opts.url,
            {
              clientId: d.id,
              username: d.secret ? d.id : undefined,
              password: d.secret,
              protocolVersion: 4,
              keepalive: 60,
            },
            sourceAddress(opts.url, i + j),
          ),
        ),
      )),
    );
  }
  return clients;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const clients = await connectAll(opts);
  await opts.beforePublish?.();
  const total = opts.devices.length * opts.messagesPerDevice;
  const latencies: number[] = [];
  let acked = 0;
  let failed = 0;
  const bucket = opts.rate ? new TokenBucket(opts.rate) : undefined;
  const started = performance.now();

  await Promise.all(
    clients.map(async (client, i) => {
      const id = opts.devices[i]!.id;
      let next = 0;
      const worker = async () => {
        while (next < opts.messagesPerDevice) {
          const seq = next++;
          if (bucket) await bucket.take();
          const t0 = performance.now();
          try {
            await client.publishAsync(opts.topic(id), opts.payload(id, seq), { qos: 1 });
            const t1 = performance.now();
            latencies.push(t1 - t0);
            opts.onAck?.(t0, t1);
            acked += 1;
            if (opts.onProgress && acked % 10_000 === 0) opts.onProgress(acked, total);
          } catch {
            failed += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: opts.window }, worker));
    }),
  );
  const durationMs = performance.now() - started;
  await Promise.all(clients.map((c) => c.endAsync()));
  latencies.sort((a, b) => a - b);
  return {
    devices: clients.length,
    sent: total,
    acked,
    failed,
    durationMs,
    perSecond: (acked / durationMs) * 1000,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
  };
}
