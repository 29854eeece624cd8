// MQTT connections for simulated devices. Over plain TCP a connection can leave from a chosen local
// address: Anju allows 500 connections per client address, so thousands of devices simulated on one
// Linux machine spread over 127.0.0.x as they would come from many homes.
import net from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

/** Connections opened from one source address before the next is used. */
export const CONNECTIONS_PER_SOURCE = 400;

export function createClient(url: string, options: IClientOptions, localAddress?: string): MqttClient {
  const parsed = new URL(url);
  if (!localAddress || (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'tcp:'))
    return mqtt.connect(url, options);
  const host = parsed.hostname;
  const port = Number(parsed.port || 1883);
  return new MqttClient(() => net.createConnection({ host, port, localAddress }), { ...options, host, port });
}

/**
 * The source address for the i-th device: spread over 127.0.0.x when the broker is on this Linux machine's
 * loopback (every 127/8 address is local there), otherwise left to the system.
 */
export function sourceAddress(url: string, index: number): string | undefined {
  const n = Math.floor(index / CONNECTIONS_PER_SOURCE);
  const loopback = /^127\.\d+\.\d+\.\d+$/.test(new URL(url).hostname);
  if (n === 0 || !loopback || process.platform !== 'linux') return undefined;
  return `127.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

/** Connects and resolves on CONNACK 0; rejects with the refusal (its `code` is the CONNACK code). */
export function connectOnce(
  url: string,
  options: IClientOptions,
  localAddress?: string,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = createClient(url, { ...options, reconnectPeriod: 0 }, localAddress);
    const fail = (err: Error) => {
      client.end(true);
      reject(err);
    };
    client.once('connect', () => {
      client.off('error', fail);
      resolve(client);
    });
    client.once('error', fail);
  });
}
