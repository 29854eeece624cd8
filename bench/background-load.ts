// The background of the latency benchmarks: many devices connected, each publishing QoS 1 telemetry on a
// fixed period so that together they make the requested rate, while the benchmark measures one thing
// through it (an SOS to the console, an SOS to a family's SMS).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

export interface BackgroundProcess {
  counts(): Promise<{ sent: number; acked: number }>;
  stop(): Promise<void>;
}

/** The same background telemetry, from a child process (see background-child.ts). */
export async function startBackgroundProcess(
  url: string,
  devices: readonly LoadDevice[],
  readingsPerSecond: number,
): Promise<BackgroundProcess> {
  const child = fork(fileURLToPath(new URL('./background-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m as T);
      };
      const onExit = (code: number | null) => reject(new Error(`background load exited with ${code}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  child.send({ url, devices, readingsPerSecond });
  await next('started');
  return {
    async counts() {
      const counts = next<{ sent: number; acked: number }>('counts');
      child.send({ type: 'counts' });
      return counts;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
