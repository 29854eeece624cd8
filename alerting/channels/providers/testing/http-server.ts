// A node:http server on 127.0.0.1 and a free port, for the stand-ins of outside providers.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, body: string) => Promise<{ status: number; json: unknown }>;

export async function listenLocal(handler: Handler): Promise<LocalServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handler(req, Buffer.concat(chunks).toString('utf8')).then(
        ({ status, json }) => {
          res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
          res.end(JSON.stringify(json));
        },
        () => {
          res.writeHead(500).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Failures a test asks for: the next `times` requests for `phone` (or any phone, '*') answer `code`. */
export interface ScriptedFailure {
  phone: string;
  /** Only this action (SendSms, SingleCallByTts, SendTtsVoice); any when absent. */
  action?: string;
  code: string;
  times: number;
  message?: string;
}

export class FailureScript {
  private readonly queue: ScriptedFailure[] = [];

  add(failure: ScriptedFailure): void {
    this.queue.push({ ...failure });
  }

  /** The scripted code for this phone, consuming one use of it, or null. */
  take(phone: string, action: string): ScriptedFailure | null {
    const hit = this.queue.find(
      (f) =>
        f.times > 0 &&
        (f.phone === '*' || f.phone === phone) &&
        (f.action === undefined || f.action === action),
    );
    if (!hit) return null;
    hit.times -= 1;
    return hit;
  }
}
