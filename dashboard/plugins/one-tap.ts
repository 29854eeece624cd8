// The one-tap link page: /t/<token> from an SMS, e-mail or robot message shows that one alert on a phone,
// without a password, and lets the person it was sent to say "I'm on it" (staff and grid workers may also
// close it). The token is the only credential and it opens nothing else: not the API, not another alert.
// GET only shows (link previewers fetch links); acting is a form POST. Answers are pages: 401 for a link
// that is not one, 410 for one that expired, was used up or whose alert is closed, 429 past the limits.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlertError, Outcome, type Alert, type AlertService } from '../../alerting/alerts/index.ts';
import type { ActionLink } from '../../alerting/alerts/links.ts';
import { isStorageError } from '../../ops/storage-errors.ts';
import type { Registry, ResidentDetail } from '../../registry/index.ts';
import { Budget, type BudgetLimits } from '../one-tap/budget.ts';
import { alertPage, formatTime, messagePage, STYLE, STYLE_PATH, type AlertFacts } from '../one-tap/page.ts';
import { PAGE_TEXT, pageLanguage, type PageLanguage, type PageText } from '../one-tap/text.ts';
import { formatHomePath } from '../../registry/index.ts';
import type { Views } from '../views.ts';

export interface OneTapLimits {
  /** Requests one client address may make to link pages. */
  perAddress: BudgetLimits;
  /** Requests with tokens that are no link, per address: guessing stops long before it could work. */
  missesPerAddress: BudgetLimits;
  /** Requests through one link. */
  perLink: BudgetLimits;
}

export const DEFAULT_ONE_TAP_LIMITS: OneTapLimits = {
  perAddress: { limit: 60, windowMs: 60_000 },
  missesPerAddress: { limit: 10, windowMs: 10 * 60_000 },
  perLink: { limit: 20, windowMs: 10 * 60_000 },
};

export interface OneTapOptions {
  alerts: Pick<AlertService, 'links' | 'get' | 'acknowledge' | 'resolve'>;
  registry: Pick<Registry, 'getResident'>;
  views: Pick<Views, 'people'>;
  limits?: OneTapLimits;
  now?: () => number;
}

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
// Longer paths never reach here: Fastify's maxParamLength (100) leaves them to the web app's shell.
const Params = z.strictObject({ token: z.string().max(100) });
const Form = z.strictObject({
  alert: z.string().max(64),
  action: z.enum(['acknowledge', 'resolve']),
  outcome: Outcome.optional(),
  go: z.string().max(10).optional(),
});

const DESCRIPTION =
  'The page a one-tap link in an SMS, e-mail or robot message opens (text/html). The token is the only ' +
  'credential and works for this page only. 401: not a link; 410: expired, used up or the alert is ' +
  'closed; 429: too many requests from this address or through this link.';

interface Seen {
  link: ActionLink;
  alert: Alert;
  t: PageText;
  language: PageLanguage;
  facts: AlertFacts;
}

export default async function oneTapPlugin(app: FastifyInstance, opts: OneTapOptions) {
  const now = opts.now ?? Date.now;
  const limits = opts.limits ?? DEFAULT_ONE_TAP_LIMITS;
  const perAddress = new Budget(limits.perAddress, now);
  const misses = new Budget(limits.missesPerAddress, now);
  const perLink = new Budget(limits.perLink, now);
  const api = app.withTypeProvider<ZodTypeProvider>();

  // Forms post url-encoded; only these routes (this plugin's context) accept that type.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  function send(reply: FastifyReply, status: number, html: string): FastifyReply {
    // Nobody else's cache keeps the page, and its address (the token) is not sent on from it.
    return reply
      .code(status)
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(html);
  }

  function textFor(req: FastifyRequest, fallback: PageLanguage) {
    const language = pageLanguage(req.headers['accept-language'], fallback);
    return { language, t: PAGE_TEXT[language] };
  }

  /** A person's name for the page: the contact, the robot, or the account that acted. */
  async function nameOf(actor: string | null, resident: ResidentDetail | undefined): Promise<string | null> {
    if (actor === null) return null;
    const colon = actor.indexOf(':');
    const [kind, id] = [actor.slice(0, colon), actor.slice(colon + 1)];
    if (kind === 'contact') return resident?.contacts.find((c) => c.id === id)?.name ?? null;
    if (kind === 'webhook') return id;
    return (await opts.views.people([actor]))[actor]?.name ?? null;
  }

  /**
   * The limits, the link and its alert; or the page that says why not (already sent). Expired and closed
   * links answer 410 before anything of the alert is shown.
   */
  async function look(req: FastifyRequest, reply: FastifyReply, token: string): Promise<Seen | undefined> {
    const address = req.ip;
    const fallback = textFor(req, 'zh-CN');
    const limited = (retryAfterMs: number) => {
      void reply.header('retry-after', String(Math.ceil(retryAfterMs / 1000)));
      send(reply, 429, messagePage(fallback.t, fallback.t.tooMany));
      return undefined;
    };
    const byAddress = perAddress.take(address);
    if (!byAddress.ok) return limited(byAddress.retryAfterMs);
    const link = await opts.alerts.links.find(token);
    if (!link) {
      const guess = misses.take(address);
      if (!guess.ok) return limited(guess.retryAfterMs);
      send(reply, 401, messagePage(fallback.t, fallback.t.invalid));
      return undefined;
    }
    const byLink = perLink.take(link.tokenHash);
    if (!byLink.ok) return limited(byLink.retryAfterMs);
    const { language, t } = textFor(req, link.language);
    const alert = await opts.alerts.get(link.alertId);
    if (!alert || link.expiresAt <= now()) {
      send(reply, 410, messagePage(t, t.expired));
      return undefined;
    }
    const resident = await opts.registry.getResident(alert.residentId);
    const timeZone = resident?.home.timeZone ?? resident?.home.communityTimeZone ?? DEFAULT_TIME_ZONE;
    const facts: AlertFacts = {
      alert,
      residentName: resident?.name ?? null,
      home: link.role === 'staff' && resident ? formatHomePath(resident.home) : null,
      acknowledgedBy: await nameOf(alert.acknowledgedBy, resident),
      resolvedBy: await nameOf(alert.resolvedBy, resident),
      timeZone,
    };
    const when = (at: number | null) => (at === null ? '' : formatTime(at, timeZone, language));
    if (alert.state === 'resolved') {
      send(reply, 410, messagePage(t, t.alertClosed(facts.resolvedBy ?? t.someone, when(alert.resolvedAt))));
      return undefined;
    }
    if (link.usedAt !== null) {
      send(reply, 410, messagePage(t, t.used(when(link.usedAt)), { f: facts, language }));
      return undefined;
    }
    return { link, alert, t, language, facts };
  }

  /** What this link may still do with the alert as it is. */
  function actionsFor(token: string, seen: Pick<Seen, 'link' | 'alert'>) {
    return {
      token,
      acknowledge: seen.alert.state === 'open',
      resolve: seen.link.role === 'staff' && seen.alert.state !== 'resolved',
    };
  }

  api.get(
    STYLE_PATH,
    { schema: { tags: ['links'], summary: 'The one-tap page stylesheet' } },
    (_req, reply) =>
      reply.header('cache-control', 'public, max-age=86400').type('text/css; charset=utf-8').send(STYLE),
  );

  api.get(
    '/t/:token',
    {
      schema: {
        tags: ['links'],
        summary: 'An alert opened from a one-tap link',
        description: DESCRIPTION,
        params: Params,
      },
    },
    async (req, reply) => {
      const seen = await look(req, reply, req.params.token);
      if (!seen) return reply;
      const { t, language, link, facts } = seen;
      return send(reply, 200, alertPage(t, language, link.name, facts, actionsFor(req.params.token, seen)));
    },
  );

  api.post(
    '/t/:token',
    {
      schema: {
        tags: ['links'],
        summary: "Acts on the alert through a one-tap link: I'm on it (acknowledge), or for staff resolve",
        description: `${DESCRIPTION} The form posts application/x-www-form-urlencoded.`,
        params: Params,
        body: Form,
      },
    },
    async (req, reply) => {
      const { token } = req.params;
      const seen = await look(req, reply, token);
      if (!seen) return reply;
      const { link, alert, t, language, facts } = seen;
      const form = req.body;
      // A page of one alert cannot act on another, whatever is posted.
      if (form.alert !== alert.id) return send(reply, 403, messagePage(t, t.notThisAlert));
      if (form.action === 'resolve' && link.role !== 'staff')
        return send(reply, 403, messagePage(t, t.notYours));
      const via = { via: 'link', name: link.name, channel: link.channel };
      let updated: Alert;
      try {
        if (form.action === 'acknowledge') {
          updated = await opts.alerts.acknowledge(alert.id, link.recipient, undefined, via);
          // A family link is used up once it took the alert on; staff may still close it through theirs.
          if (link.role === 'family') await opts.alerts.links.markUsed(link.tokenHash, now());
        } else {
          updated = await opts.alerts.resolve(
            alert.id,
            link.recipient,
            form.outcome ?? 'other',
            undefined,
            via,
          );
          await opts.alerts.links.markUsed(link.tokenHash, now());
        }
      } catch (err) {
        if (err instanceof AlertError && (err.code === 'conflict' || err.code === 'changed_meanwhile')) {
          const current = (await opts.alerts.get(alert.id)) ?? alert;
          const resident = await opts.registry.getResident(alert.residentId);
          const who = await nameOf(current.acknowledgedBy ?? current.resolvedBy, resident);
          const f = {
            ...facts,
            alert: current,
            acknowledgedBy: await nameOf(current.acknowledgedBy, resident),
          };
          return send(
            reply,
            409,
            alertPage(t, language, link.name, f, actionsFor(token, { link, alert: current }), {
              text: t.tookFirst(who ?? t.someone),
              kind: 'warn',
            }),
          );
        }
        if (isStorageError(err)) return send(reply, 503, messagePage(t, t.unavailable));
        throw err;
      }
      const f: AlertFacts = {
        ...facts,
        alert: updated,
        acknowledgedBy: updated.acknowledgedBy === link.recipient ? link.name : facts.acknowledgedBy,
        resolvedBy: updated.resolvedBy === link.recipient ? link.name : facts.resolvedBy,
      };
      const done =
        form.action === 'acknowledge'
          ? [t.youAreOnIt, t.othersStop].join(language === 'en' ? ' ' : '')
          : t.youClosed;
      const actions =
        link.role === 'staff'
          ? actionsFor(token, { link, alert: updated })
          : { token, acknowledge: false, resolve: false };
      return send(reply, 200, alertPage(t, language, link.name, f, actions, { text: done, kind: 'done' }));
    },
  );
}
