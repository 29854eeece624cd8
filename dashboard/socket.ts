// The live side of the console and the family page, over Socket.IO on the dashboard's HTTP server.
// A socket is authenticated once, at the handshake (the browser's session cookie, or `auth: {token}` for
// API clients), and the server alone decides its rooms from the caller's Scope: a client cannot ask to
// join anything. Acknowledging and resolving through the socket are checked against the same Scope as the
// HTTP routes, against a session that must still be live. `alerts:sync` returns what changed since a
// time, so a console that reconnects catches up.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { Outcome, type AlertService } from '../alerting/alerts/index.ts';
import { publishAlertChanges } from '../alerting/channels/socketio.ts';
import type { ApiToken } from '../registry/index.ts';
import type { Accounts, Principal, Scopes } from './accounts/index.ts';
import { statusOf } from './plugins/domain-errors.ts';
import { SESSION_COOKIE } from './plugins/session-auth.ts';
import type { AlertView, Views } from './views.ts';

export const SOCKET_PATH = '/socket.io';

/** Client -> server events (each with an ack callback). */
export const SOCKET_ACTIONS = {
  acknowledge: 'alert:acknowledge',
  resolve: 'alert:resolve',
  sync: 'alerts:sync',
} as const;

/** At most this many alerts are returned by one `alerts:sync`, most recently changed first. */
export const SYNC_LIMIT = 1000;

// setTimeout cannot wait longer than this; a later expiry is reached by looking again.
const MAX_TIMER_MS = 2 ** 31 - 1;

export type ActionAck = { ok: true; alert: AlertView } | { ok: false; status: number; error: string };
export type SyncAck = { ok: true; alerts: AlertView[] } | { ok: false; status: number; error: string };

/**
 * The Socket.IO server, not yet attached. Its messages are tiny, so a small buffer bounds what one client
 * can make the server hold; other upgrade requests (MQTT over WebSocket at /mqtt) are left alone.
 */
export function createSocketServer(): Server {
  return new Server({
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    destroyUpgrade: false,
  });
}

const Id = z.string().min(1).max(64);
const Note = z.string().trim().min(1).max(2000);
const AcknowledgeRequest = z.strictObject({ id: Id, note: Note.optional() });
const ResolveRequest = z.strictObject({ id: Id, outcome: Outcome, note: Note.optional() });
const SyncRequest = z.strictObject({ since: z.number().int().min(0) });

interface SocketData {
  principal: Principal;
  /** The session cookie, for sockets opened by a browser: re-checked before every action. */
  cookie?: string;
}

export interface AlertSocketOptions {
  io: Server;
  accounts: Accounts;
  scopes: Scopes;
  alerts: AlertService;
  views: Views;
  verifyToken(token: string): Promise<ApiToken | undefined>;
}

function sessionRoom(sessionKey: string): string {
  return `session:${sessionKey}`;
}

function refusal(status: number, error: string): { ok: false; status: number; error: string } {
  return { ok: false, status, error };
}

/** A cookie sent by a page on another site must not open a socket (cross-site WebSocket hijacking). */
function sameOrigin(headers: Record<string, string | string[] | undefined>): boolean {
  const origin = headers.origin;
  if (typeof origin !== 'string') return true; // not a browser: no cookie riding along to fear
  try {
    return new URL(origin).host === headers.host;
  } catch {
    return false;
  }
}

export default fp(async function alertSocketPlugin(app: FastifyInstance, opts: AlertSocketOptions) {
  const { io, accounts, scopes, alerts, views } = opts;

  async function authenticate(socket: Socket): Promise<SocketData | undefined> {
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string') {
      const record = await opts.verifyToken(token);
      return record && { principal: { kind: 'token', token: record } };
    }
    const cookie = app.parseCookie(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE];
    if (cookie === undefined || !sameOrigin(socket.handshake.headers)) return undefined;
    const session = accounts.sessions.find(cookie);
    const user = session && accounts.users.get(session.userId);
    return user && { principal: { kind: 'user', user }, cookie };
  }

  /** The socket's principal if its session is still live (and with the user's current assignments). */
  function stillSignedIn(socket: Socket): Principal | undefined {
    const data = socket.data as SocketData;
    if (data.cookie === undefined) return data.principal;
    const session = accounts.sessions.find(data.cookie);
    const user = session && accounts.users.get(session.userId);
    return user && { kind: 'user', user };
  }

  /**
   * A socket that only listens makes no requests, so nothing would notice its session expire: look when
   * it is due (later if the session was used meanwhile) and close the socket once it has ended.
   */
  function closeWhenExpired(socket: Socket, cookie: string, expiresAt: number): void {
    const timer = setTimeout(
      () => {
        const session = accounts.sessions.find(cookie);
        if (session) closeWhenExpired(socket, cookie, session.expiresAt);
        else socket.disconnect(true);
      },
      Math.min(Math.max(expiresAt - Date.now(), 0) + 1000, MAX_TIMER_MS),
    );
    timer.unref();
    socket.once('disconnect', () => clearTimeout(timer));
  }

  io.use((socket, next) => {
    authenticate(socket).then(
      (data) => {
        if (!data) return next(new Error('unauthorized: sign in, or give auth.token'));
        socket.data = data;
        next();
      },
      (err: unknown) => {
        app.log.error({ err }, 'socket not authenticated: storage failed');
        next(new Error('the server could not check the sign-in; try again'));
      },
    );
  });

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    void scopes.of(data.principal).then(
      (scope) => socket.join(scope.rooms()),
      (err: unknown) => app.log.error({ err }, 'socket not put in its rooms'),
    );
    if (data.cookie !== undefined) {
      const session = accounts.sessions.find(data.cookie);
      if (session) {
        void socket.join(sessionRoom(session.key));
        closeWhenExpired(socket, data.cookie, session.expiresAt);
      }
    }

    /** Validates, re-checks the session and scope, runs the action and answers through the ack. */
    function on<S extends z.ZodType, A>(
      event: string,
      schema: S,
      handle: (input: z.output<S>, principal: Principal) => A | Promise<A>,
    ): void {
      socket.on(event, (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return; // every action answers; one that cannot be answered is not run
        const reply = ack as (result: A | ReturnType<typeof refusal>) => void;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) return reply(refusal(400, z.prettifyError(parsed.error)));
        const principal = stillSignedIn(socket);
        if (!principal) {
          reply(refusal(401, 'the session has ended; sign in again'));
          socket.disconnect(true);
          return;
        }
        // Synchronous or not, a failure is answered, never thrown out of the socket's handler.
        Promise.resolve()
          .then(() => handle(parsed.data, principal))
          .then(reply, (err: unknown) => {
            const status = statusOf(err);
            if (status === undefined) {
              app.log.error({ err, event }, 'socket action failed');
              return reply(refusal(500, 'the server could not do this'));
            }
            reply(refusal(status, (err as Error).message));
          });
      });
    }

    on(SOCKET_ACTIONS.acknowledge, AcknowledgeRequest, async (req, principal): Promise<ActionAck> => {
      const scope = await scopes.of(principal);
      const alert = await alerts.get(req.id);
      if (!alert || !scope.seesAlert(alert)) return refusal(403, 'this is outside what you may see');
      return { ok: true, alert: await views.alert(await alerts.acknowledge(req.id, scope.actor, req.note)) };
    });

    on(SOCKET_ACTIONS.resolve, ResolveRequest, async (req, principal): Promise<ActionAck> => {
      const scope = await scopes.of(principal);
      const alert = await alerts.get(req.id);
      if (!alert || !scope.seesAlert(alert)) return refusal(403, 'this is outside what you may see');
      if (!scope.mayResolve(alert))
        return refusal(403, 'staff close SOS and fall alerts; you may acknowledge it');
      return {
        ok: true,
        alert: await views.alert(await alerts.resolve(req.id, scope.actor, req.outcome, req.note)),
      };
    });

    on(SOCKET_ACTIONS.sync, SyncRequest, async (req, principal): Promise<SyncAck> => {
      const filter = (await scopes.of(principal)).alertFilter();
      return {
        ok: true,
        alerts: await views.alerts(await alerts.list({ ...filter, since: req.since, limit: SYNC_LIMIT })),
      };
    });
  });

  // Every alert change goes to the rooms that may see it, with the names the console shows.
  const unpublish = publishAlertChanges(io, {
    onChange: (listener) => {
      // Names are looked up asynchronously; changes still go out in the order they happened.
      let sent = Promise.resolve();
      return alerts.onChange((change) => {
        sent = sent
          .then(async () => listener({ ...change, alert: await views.alert(change.alert) }))
          .catch((err: unknown) => app.log.error({ err }, 'alert change not published'));
      });
    },
  });
  // Deferred, so that an action that found its session ended still gets its answer before the close.
  const unwatchSessions = accounts.sessions.onEnd((key) =>
    setImmediate(() => io.in(sessionRoom(key)).disconnectSockets(true)),
  );
  app.addHook('onClose', async () => {
    unpublish();
    unwatchSessions();
  });
});
