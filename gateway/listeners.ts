// The transports a device can reach the gateway on: MQTT over TCP, over TLS, and over WebSocket at /mqtt
// on the HTTP server. Each hands its connections to Gateway.handle with the peer's address.
import net from 'node:net';
import tls from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Gateway } from './gateway.ts';

export const MQTT_WS_PATH = '/mqtt';

function listen(server: net.Server, port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function listenMqtt(gateway: Gateway, port: number, host: string): Promise<net.Server> {
  const server = net.createServer((socket) => gateway.handle(socket, socket.remoteAddress ?? 'unknown'));
  return listen(server, port, host);
}

export function listenMqtts(
  gateway: Gateway,
  port: number,
  host: string,
  credentials: { cert: Buffer; key: Buffer },
): Promise<net.Server> {
  const server = tls.createServer(credentials, (socket) =>
    gateway.handle(socket, socket.remoteAddress ?? 'unknown'),
  );
  // A failed TLS handshake is the client's problem, never the process's.
  server.on('tlsClientError', () => undefined);
  return listen(server, port, host);
}

/** Serves MQTT over WebSocket on `path` of an existing HTTP server, leaving other upgrades to others. */
export function attachMqttWebSocket(
  gateway: Gateway,
  http: HttpServer,
  path = MQTT_WS_PATH,
): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: gateway.limits.maxFrameBytes,
    handleProtocols: (protocols) =>
      protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false,
  });
  http.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== path) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      gateway.handle(stream, req.socket.remoteAddress ?? 'unknown');
    });
  });
  return wss;
}
