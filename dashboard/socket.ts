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
import type { ApiToken } from '../registry/index.ts';
import type { Accounts, Principal, Scopes, Session } from './accounts/index.ts';
import { statusOf } from './plugins/domain-errors.ts';
import { SESSION_COOKIE } from './plugins/session-auth.ts';
import type { AlertActions } from './alert-actions.ts';
import { publishAlertChanges } from './live/alert-changes.ts';
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
  /** The session found at the handshake. */
  session?: Session;
}

export interface AlertSocketOptions {
  io: Server;
  accounts: Accounts;
  scopes: Scopes;
  alerts: AlertService;
  views: Views;
  actions: AlertActions;
  verifyToken(token: string): ApiToken | undefined | Promise<ApiToken | undefined>;
  /** How often the sessions of open sockets are looked up: another process may have ended them. */
  sessionCheckMs?: number;
}

const DEFAULT_SESSION_CHECK_MS = 15_000;
const SESSION_ROOM = 'session:';

function sessionRoom(sessionKey: string): string {
  return `${SESSION_ROOM}${sessionKey}`;
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
  const { io, accounts, scopes, alerts, views, actions } = opts;

  async function authenticate(socket: Socket): Promise<SocketData | undefined> {
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string') {
      const record = await opts.verifyToken(token);
      return record && { principal: { kind: 'token', token: record } };
    }
    const cookie = app.parseCookie(socket.handshake.headers.cookie ?? '')[SESSION_COOKIE];
    if (cookie === undefined || !sameOrigin(socket.handshake.headers)) return undefined;
    const session = await accounts.sessions.find(cookie);
    const user = session && (await accounts.users.get(session.userId));
    return user && { principal: { kind: 'user', user }, cookie, session };
  }

  /**
   * The socket's principal if its session is still live (and with the user's current assignments); a
   * session ended by another process sharing the database counts as ended.
   */
  async function stillSignedIn(socket: Socket): Promise<Principal | undefined> {
    const data = socket.data as SocketData;
    if (data.cookie === undefined) return data.principal;
    const session = await accounts.sessions.find(data.cookie);
    const user = session && (await accounts.users.get(session.userId));
    return user && { kind: 'user', user };
  }

  /**
   * A socket that only listens makes no requests, so nothing would notice its session expire: look when
   * it is due (later if the session was used meanwhile) and close the socket once it has ended.
   */
  function closeWhenExpired(socket: Socket, cookie: string, expiresAt: number): void {
    const timer = setTimeout(
      () => {
        accounts.sessions.find(cookie).then(
          (session) => {
            if (session) closeWhenExpired(socket, cookie, session.expiresAt);
            else socket.disconnect(true);
          },
          (err: unknown) => {
            app.log.error({ err }, 'session not checked; the socket is closed');
            socket.disconnect(true);
          },
        );
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
        app.log.error({ err }, 'socket not authenticated');
        next(new Error('the server could not check the sign-in'));
      },
    );
  });

  io.on('connection', (socket) => {
    const data = socket.data as SocketData;
    void socket.join(scopes.of(data.principal).rooms());
    if (data.cookie !== undefined && data.session) {
      void socket.join(sessionRoom(data.session.key));
      closeWhenExpired(socket, data.cookie, data.session.expiresAt);
    }

    /** Validates, re-checks the session and scope, runs the action and answers through the ack. */
    function on<S extends z.ZodType, A>(
      event: string,
      schema: S,
      handle: (input: z.output<S>, principal: Principal) => A | Promise<A>,
    ): void {
      socket.on(event, async (payload: unknown, ack: unknown) => {
        if (typeof ack !== 'function') return; // every action answers; one that cannot be answered is not run
        const reply = ack as (result: A | ReturnType<typeof refusal>) => void;
        const parsed = schema.safeParse(payload);
        if (!parsed.success) return reply(refusal(400, z.prettifyError(parsed.error)));
        try {
          const principal = await stillSignedIn(socket);
          if (!principal) {
            reply(refusal(401, 'the session has ended; sign in again'));
            socket.disconnect(true);
            return;
          }
          reply(await handle(parsed.data, principal));
        } catch (err) {
          const status = statusOf(err);
          if (status === undefined) {
            app.log.error({ err, event }, 'socket action failed');
            return reply(refusal(500, 'the server could not do this'));
          }
          reply(refusal(status, (err as Error).message));
        }
      });
    }

    on(SOCKET_ACTIONS.acknowledge, AcknowledgeRequest, async (req, principal): Promise<ActionAck> => ({
      ok: true,
      alert: await actions.acknowledge(scopes.of(principal), req.id, req.note),
    }));

    on(SOCKET_ACTIONS.resolve, ResolveRequest, async (req, principal): Promise<ActionAck> => ({
      ok: true,
      alert: await actions.resolve(scopes.of(principal), req.id, req.outcome, req.note),
    }));

    on(SOCKET_ACTIONS.sync, SyncRequest, async (req, principal): Promise<SyncAck> => {
      const filter = scopes.of(principal).alertFilter();
      return {
        ok: true,
        alerts: await views.alerts(await alerts.list({ ...filter, since: req.since, limit: SYNC_LIMIT })),
      };
    });
  });

  // Every alert change goes to the rooms that may see it, with the names the console shows.
  // Named one after another, so that the sockets receive the changes in the order they happened.
  let naming = Promise.resolve();
  const unpublish = publishAlertChanges(io, {
    onChange: (listener) =>
      alerts.onChange((change) => {
        naming = naming
          .then(async () => listener({ ...change, alert: await views.alert(change.alert) }))
          .catch((err: unknown) => app.log.error({ err }, 'an alert change was not sent to the sockets'));
      }),
  });
  // Deferred, so that an action that found its session ended still gets its answer before the close.
  const unwatchSessions = accounts.sessions.onEnd((key) =>
    setImmediate(() => io.in(sessionRoom(key)).disconnectSockets(true)),
  );
  // A session ended by another process sharing the database (a sign-out, a disabled account) is not
  // heard of here: look up every open socket's session now and then, in one query per 500.
  let checking = false;
  const checkSessions = async () => {
    const keys = [...io.of('/').adapter.rooms.keys()]
      .filter((room) => room.startsWith(SESSION_ROOM))
      .map((room) => room.slice(SESSION_ROOM.length));
    if (keys.length === 0) return;
    const live = await accounts.sessions.live(keys);
    for (const key of keys) if (!live.has(key)) io.in(sessionRoom(key)).disconnectSockets(true);
  };
  const sessionCheck = setInterval(() => {
    if (checking) return;
    checking = true;
    checkSessions()
      .catch((err: unknown) =>
        app.log.error({ err }, 'sessions of open sockets not checked; tried again later'),
      )
      .finally(() => (checking = false));
  }, opts.sessionCheckMs ?? DEFAULT_SESSION_CHECK_MS);
  sessionCheck.unref();
  app.addHook('onClose', async () => {
    clearInterval(sessionCheck);
    unpublish();
    unwatchSessions();
  });
});
