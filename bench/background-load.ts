// The background of the latency benchmarks: many devices connected, each publishing QoS 1 telemetry on a
// fixed period so that together they make the requested rate, while the benchmark measures one thing
// through it (an SOS to the console, an SOS to a family's SMS).
import mqtt, { type MqttClient } from 'mqtt';
import type { LoadDevice } from '../device-sim/load.ts';
import { topicFor } from '../firmware-protocol/index.ts';

/** Connects every device, 100 at a time, in order. */
export async function connectAll(url: string, devices: readonly LoadDevice[]): Promise<MqttClient[]> {
  const connect = (d: LoadDevice) =>
    mqtt.connectAsync(url, { clientId: d.id, username: d.id, password: d.secret, reconnectPeriod: 0 });
  const clients: MqttClient[] = [];
  for (let i = 0; i < devices.length; i += 100)
    clients.push(...(await Promise.all(devices.slice(i, i + 100).map(connect))));
  return clients;
}

/** Starts each device's telemetry at a random phase of its period; counts what was sent and acknowledged. */
export function startBackgroundTelemetry(
  clients: readonly MqttClient[],
  devices: readonly LoadDevice[],
  readingsPerSecond: number,
) {
  let sent = 0;
  let acked = 0;
  const periodMs = (devices.length / readingsPerSecond) * 1000;
  const seqs = new Array<number>(devices.length).fill(0);
  const timers = clients.map((client, i) =>
    setTimeout(() => {
      const publish = () => {
        const seq = seqs[i]!++;
        const body = { ts: Date.now(), seq, heartRate: 60 + (seq % 30), spo2: 97, worn: true };
        sent += 1;
        client.publishAsync(topicFor(devices[i]!.id, 'telemetry'), JSON.stringify(body), { qos: 1 }).then(
          () => (acked += 1),
          () => undefined,
        );
      };
      publish();
      timers[i] = setInterval(publish, periodMs);
    }, Math.random() * periodMs),
  );
  return {
    sent: () => sent,
    acked: () => acked,
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}
