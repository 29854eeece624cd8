// Signing in and out of the dashboard, and the signed-in person's own settings (preferences, password).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DEVICE_COOKIE,
  DEVICE_TOKEN_TTL_MS,
  Password,
  Preferences,
  PreferencesView,
  SessionUser,
  type Accounts,
  type User,
} from '../accounts/index.ts';
import { qrCodeDataUrl } from '../qr-code.ts';
import { HttpProblem, SECOND_FACTOR_REQUIRED } from './problem.ts';
import { clearSessionCookie, SESSION_COOKIE, sessionCookieOptions } from './session-auth.ts';

const SessionBody = z.object({
  user: SessionUser,
  csrfToken: z.string().meta({ description: 'Send it as X-CSRF-Token on every state-changing request.' }),
});

const Credentials = z.strictObject({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1024),
  code: z
    .string()
    .regex(/^\d{6}$/, 'six digits from the authenticator app')
    .optional()
    .meta({ description: 'The one-time code, for an account with the second factor on.' }),
});

const PasswordChange = z.strictObject({
  currentPassword: z.string().min(1).max(1024),
  newPassword: Password,
});

export interface SessionRoutesOptions {
  accounts: Accounts;
}

function sessionUser(user: User): SessionUser {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    language: user.language,
    twoFactor: user.twoFactor,
  };
}

/** The signed-in person behind a browser session; API tokens have no person, so no settings. */
function signedIn(req: FastifyRequest): User {
  if (req.principal?.kind !== 'user') throw new HttpProblem(401, 'sign in first');
  return req.principal.user;
}

function meta(req: FastifyRequest) {
  return { address: req.ip, userAgent: req.headers['user-agent'] };
}

export default fp(async function sessionRoutesPlugin(app: FastifyInstance, opts: SessionRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { accounts } = opts;

  api.post(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Sign in: sets the anju_session cookie and returns the CSRF token',
        description:
          'Rate-limited (429 with Retry-After): 5 failures a minute from one address for one account; ' +
          'for an account, a back-off doubling from 30 s after 10 failures; for an address, 100 failures ' +
          'in 15 min. A browser that signed in to the account before (the anju_device cookie) passes the ' +
          'account and address limits.',
        body: Credentials,
        response: { 200: SessionBody },
      },
    },
    async (req, reply) => {
      const result = await accounts.signIn({
        ...req.body,
        ...meta(req),
        deviceToken: req.cookies[DEVICE_COOKIE],
      });
      if (!result.ok) {
        if (result.reason === 'rate_limited') {
          reply.header('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
          throw new HttpProblem(429, 'too many failed sign-ins; wait and try again');
        }
        if (result.reason === 'code_required')
          throw new HttpProblem(
            401,
            'a one-time code from the authenticator app is needed',
            SECOND_FACTOR_REQUIRED,
          );
        if (result.reason === 'bad_code')
          throw new HttpProblem(401, 'wrong or already used one-time code', SECOND_FACTOR_REQUIRED);
        throw new HttpProblem(401, 'wrong username or password');
      }
      reply.setCookie(SESSION_COOKIE, result.cookie, sessionCookieOptions(req));
      // Only the sign-in route reads it; it outlives sign-out, as the browser stays the same.
      reply.setCookie(DEVICE_COOKIE, result.deviceToken, {
        ...sessionCookieOptions(req),
        path: '/api/v1/session',
        maxAge: DEVICE_TOKEN_TTL_MS / 1000,
      });
      return { user: sessionUser(result.user), csrfToken: result.session.csrfToken };
    },
  );

  api.get(
    '/api/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Who is signed in, and the CSRF token; 401 without a live session',
        response: { 200: SessionBody },
      },
    },
    async (req) => {
      if (!req.session || req.principal?.kind !== 'user') throw new HttpProblem(401, 'not signed in');
      return { user: sessionUser(req.principal.user), csrfToken: req.session.csrfToken };
    },
  );

  api.delete(
    '/api/v1/session',
    { schema: { tags: ['session'], summary: 'Sign out (needs X-CSRF-Token)' } },
    async (req, reply) => {
      if (req.session) await accounts.signOut(req.session, meta(req));
      clearSessionCookie(req, reply);
      reply.code(204).send();
    },
  );

  api.post(
    '/api/v1/me/password',
    {
      schema: {
        tags: ['session'],
        summary: 'Change your own password; your other sessions end',
        description:
          'Wrong current passwords count as failed sign-ins (429 after 5 a minute); the new password must ' +
          'pass the policy and differ from the current one.',
        body: PasswordChange,
      },
    },
    async (req, reply) => {
      const result = await accounts.changePassword({
        user: signedIn(req),
        currentPassword: req.body.currentPassword,
        newPassword: req.body.newPassword,
        address: req.ip,
        sessionKey: req.session?.key,
      });
      if (!result.ok) {
        if (result.reason === 'rate_limited')
          reply.header('Retry-After', String(Math.ceil(result.retryAfterMs! / 1000)));
        const status = { rate_limited: 429, wrong_current: 403, unchanged: 400, weak: 400 }[result.reason];
        throw new HttpProblem(status, result.detail);
      }
      reply.code(204).send();
    },
  );

  /** The signed-in person's password again, within the sign-in limits: 403 when wrong, 429 when limited. */
  const ownPassword = async (user: User, password: string, req: FastifyRequest, reply: FastifyReply) => {
    const own = await accounts.verifyOwnPassword(user, password, req.ip);
    if (own.ok) return;
    if (own.reason === 'rate_limited')
      reply.header('Retry-After', String(Math.ceil(own.retryAfterMs! / 1000)));
    throw new HttpProblem(own.reason === 'rate_limited' ? 429 : 403, own.detail);
  };

  const StaffOnly = (req: FastifyRequest): User => {
    const user = signedIn(req);
    if (user.role === 'family') throw new HttpProblem(403, 'the second factor is for staff and admins');
    return user;
  };

  api.post(
    '/api/v1/me/totp/setup',
    {
      schema: {
        tags: ['session'],
        summary: 'A new TOTP secret (and otpauth URI) for your authenticator app; nothing changes yet',
        response: {
          200: z.object({
            secret: z.string(),
            uri: z.string(),
            qrCode: z.string().meta({ description: 'The otpauth URI as a QR code: an SVG data: URL.' }),
          }),
        },
      },
    },
    async (req) => {
      const setup = accounts.totpSetup(StaffOnly(req));
      return { ...setup, qrCode: await qrCodeDataUrl(setup.uri) };
    },
  );

  api.put(
    '/api/v1/me/totp',
    {
      schema: {
        tags: ['session'],
        summary: 'Turn the second factor on: the secret, a code the app shows for it, and your password',
        body: z.strictObject({
          secret: z.string().min(16).max(128),
          code: z.string().regex(/^\d{6}$/, 'six digits'),
          currentPassword: z.string().min(1).max(1024),
        }),
      },
    },
    async (req, reply) => {
      const user = StaffOnly(req);
      await ownPassword(user, req.body.currentPassword, req, reply);
      const problem = await accounts.totpEnable(user, req.body.secret, req.body.code);
      if (problem) throw new HttpProblem(400, problem);
      reply.code(204).send();
    },
  );

  api.delete(
    '/api/v1/me/totp',
    {
      schema: {
        tags: ['session'],
        summary: 'Turn the second factor off (needs your password)',
        body: z.strictObject({ currentPassword: z.string().min(1).max(1024) }),
      },
    },
    async (req, reply) => {
      const user = signedIn(req);
      await ownPassword(user, req.body.currentPassword, req, reply);
      await accounts.totpDisable(user.id);
      reply.code(204).send();
    },
  );

  api.get(
    '/api/v1/me/sessions',
    {
      schema: {
        tags: ['session'],
        summary: 'Where you are signed in: your live sessions, this one marked',
        response: {
          200: z.object({
            sessions: z.array(
              z.object({
                id: z.string(),
                current: z.boolean(),
                createdAt: z.number().int(),
                lastUsedAt: z.number().int(),
                expiresAt: z.number().int(),
                address: z.string(),
                userAgent: z.string().nullable(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const user = signedIn(req);
      const sessions = (await accounts.sessions.listOf(user.id)).map(({ key, ...s }) => ({
        id: key,
        current: key === req.session?.key,
        ...s,
      }));
      return { sessions };
    },
  );

  api.delete(
    '/api/v1/me/sessions',
    {
      schema: {
        tags: ['session'],
        summary: 'End every session of yours but this one',
        response: { 200: z.object({ ended: z.number().int() }) },
      },
    },
    async (req) => {
      const user = signedIn(req);
      return { ended: await accounts.sessions.endAllOf(user.id, req.session?.key) };
    },
  );

  api.delete(
    '/api/v1/me/sessions/:id',
    {
      config: { scopedInHandler: "only the caller's own sessions are found" },
      schema: {
        tags: ['session'],
        summary: 'End one of your sessions (a browser left signed in elsewhere)',
        params: z.strictObject({ id: z.string().regex(/^[0-9a-f]{64}$/, 'a session id from the list') }),
      },
    },
    async (req, reply) => {
      const user = signedIn(req);
      if (!(await accounts.sessions.listOf(user.id)).some((s) => s.key === req.params.id))
        throw new HttpProblem(404, 'no such session of yours');
      await accounts.sessions.end(req.params.id);
      reply.code(204).send();
    },
  );

  api.get(
    '/api/v1/me/preferences',
    {
      schema: {
        tags: ['session'],
        summary: 'How you want to be told about alerts, and your language',
        response: { 200: PreferencesView },
      },
    },
    async (req) => {
      const user = signedIn(req);
      return {
        channels: user.channels,
        language: user.language,
        quietHours: await accounts.users.quietHours(user.id),
        ...(await accounts.users.workIds(user.id))!,
      };
    },
  );

  api.put(
    '/api/v1/me/preferences',
    {
      schema: {
        tags: ['session'],
        summary: 'Set how you want to be told about alerts, and your language',
        description:
          "400 when 'wecom' or 'dingtalk' is chosen without your user id in that app (given now or before).",
        body: Preferences,
        response: { 200: PreferencesView },
      },
    },
    async (req) => {
      const user = signedIn(req);
      const { channels, language } = await accounts.users.setPreferences(user.id, req.body);
      return {
        channels,
        language,
        quietHours: await accounts.users.quietHours(user.id),
        ...(await accounts.users.workIds(user.id))!,
      };
    },
  );
});
