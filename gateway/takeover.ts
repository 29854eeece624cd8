// Client takeover across gateway nodes. MQTT says a second connection with the same client id closes the
// first [MQTT-3.1.4-2]; Aedes does that within one broker. In a cluster the device may reconnect to
// another node (a load balancer, a host list), so every node announces each new connection on a shared
// bus and closes its own older connection of that id. Without it the old node would keep a half-dead
// session and its last will could arrive after the device is back.
import type { Aedes, Client } from 'aedes';

export interface Takeover {
  clientId: string;
  /** The node the device connected to. */
  node: string;
  /** When it connected there, Unix ms. */
  at: number;
}

/** How nodes tell each other of new connections (NATS core in a cluster). */
export interface TakeoverBus {
  announce(takeover: Takeover): void;
  subscribe(handler: (takeover: Takeover) => void): () => void;
}

/**
 * Announces every client this broker accepts and closes a local client that another node has since
 * accepted under the same id. Returns a function that stops both.
 */
export function closeTakenOverClients(
  broker: Aedes,
  node: string,
  bus: TakeoverBus,
  clock: () => number = Date.now,
): () => void {
  const local = new Map<string, { client: Client; at: number }>();
  const onReady = (client: Client) => {
    const at = clock();
    local.set(client.id, { client, at });
    bus.announce({ clientId: client.id, node, at });
  };
  const onDisconnect = (client: Client) => {
    if (local.get(client.id)?.client === client) local.delete(client.id);
  };
  broker.on('clientReady', onReady);
  broker.on('clientDisconnect', onDisconnect);
  const unsubscribe = bus.subscribe((takeover) => {
    if (takeover.node === node) return;
    const here = local.get(takeover.clientId);
    // Only a connection older than the announced one goes: a device that came back here since stays.
    if (here && here.at <= takeover.at) {
      local.delete(takeover.clientId);
      here.client.close();
    }
  });
  return () => {
    broker.removeListener('clientReady', onReady);
    broker.removeListener('clientDisconnect', onDisconnect);
    unsubscribe();
  };
}
