// Community reports over HTTP: the figures of a month or any period as JSON, CSV or a printed PDF, and
// the communities a caller may ask about. Staff see their communities, admins all; family none (the
// route's roles). A staff member asking about another community gets 403 whether or not it exists.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listCommunities } from '../../registry/fleet-report.ts';
import type { TelemetryStore } from '../../ingest/store/types.ts';
import { buildCommunityReport, ReportError, type ReportSources } from '../reports/assemble.ts';
import { reportCsv } from '../reports/csv.ts';
import { MONTH_PATTERN } from '../reports/period.ts';
import { CommunityReport, REPORT_LANGUAGES } from '../reports/schemas.ts';
import type { TrendContext } from '../reports/trend-home.ts';
import { residentTrends, TREND_SERIES } from '../reports/trends.ts';
import { formatTimeOfDay } from '../../alerting/rules/local-time.ts';
import { scopeOf } from './access.ts';
import { HttpProblem } from './problem.ts';

export interface ReportRoutesOptions extends ReportSources {
  /** Readings, for residents' trends. */
  store: Pick<TelemetryStore, 'query'>;
  /** A resident's zone, windows and room sensors (trend-home.ts); undefined when there is no such resident. */
  residentContext(id: string): Promise<TrendContext | undefined>;
}

const STAFF = { roles: ['admin', 'staff'] as const };
/** The community routes check the community against the caller's scope themselves. */
const STAFF_OF_COMMUNITY = { ...STAFF, scopedInHandler: "the handler checks the caller's communities" };
const IdParams = z.object({ id: z.string().min(1).max(128) });
const Ms = z.coerce.number().int().min(0).max(4_102_444_800_000);

const PeriodQuery = z
  .strictObject({
    month: z
      .string()
      .regex(MONTH_PATTERN, 'a month such as 2026-11')
      .optional()
      .meta({ description: "A calendar month in the community's time zone, YYYY-MM." }),
    from: Ms.optional().meta({ description: 'Start, Unix ms (inclusive); with `to`, instead of month.' }),
    to: Ms.optional().meta({ description: 'End, Unix ms (exclusive).' }),
    lang: z.enum(REPORT_LANGUAGES).default('zh-CN').meta({ description: 'The language of the PDF.' }),
  })
  .refine((q) => (q.month !== undefined) !== (q.from !== undefined && q.to !== undefined), {
    message: 'give either month, or from and to',
  });
type PeriodQuery = z.infer<typeof PeriodQuery>;

export default async function reportRoutesPlugin(app: FastifyInstance, opts: ReportRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  async function report(req: { params: { id: string }; query: PeriodQuery }): Promise<CommunityReport> {
    const scope = scopeOf(req as never);
    const { id } = req.params;
    if (!scope.seesCommunity(id)) throw new HttpProblem(403, 'this is outside what you may see');
    const q = req.query;
    try {
      return await buildCommunityReport(
        opts,
        id,
        q.month !== undefined ? { month: q.month } : { from: q.from!, to: q.to! },
      );
    } catch (err) {
      if (err instanceof ReportError)
        throw new HttpProblem(err.code === 'not_found' ? 404 : 400, err.message);
      throw err;
    }
  }
  const fileName = (r: CommunityReport, ext: string) =>
    `anju-report-${r.community.id}-${r.period.days[0] ?? 'period'}.${ext}`;

  api.get(
    '/api/v1/reports/communities',
    {
      config: STAFF,
      schema: {
        tags: ['reports'],
        summary: 'The communities the caller may see reports of',
        response: { 200: z.object({ communities: z.array(z.object({ id: z.string(), name: z.string() })) }) },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const all = await listCommunities(opts.registry);
      return { communities: all.filter((c) => scope.seesCommunity(c.id)) };
    },
  );

  api.get(
    '/api/v1/communities/:id/report',
    {
      config: STAFF_OF_COMMUNITY,
      schema: {
        tags: ['reports'],
        summary: "A community's operations figures for a month or period",
        description:
          'Alerts per day by rule and severity; time to take on and to resolve (p50/p90, share within the ' +
          "community's take-on target for alarm and critical, 5 minutes unless its escalation policy sets " +
          'takeOnTargetMin); outcomes and false-alarm share per rule, worst first; escalation reach against ' +
          "the community's policy; deliveries; the device fleet.",
        params: IdParams,
        querystring: PeriodQuery,
        response: { 200: CommunityReport },
      },
    },
    async (req) => report(req),
  );

  api.get(
    '/api/v1/communities/:id/report.csv',
    {
      config: STAFF_OF_COMMUNITY,
      schema: {
        tags: ['reports'],
        summary: 'The same report as CSV (section, item, measure, value), UTF-8 with a byte order mark',
        params: IdParams,
        querystring: PeriodQuery,
        produces: ['text/csv'],
      },
    },
    async (req, reply) => {
      const r = await report(req);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName(r, 'csv')}"`)
        .send(reportCsv(r));
    },
  );

  api.get(
    '/api/v1/communities/:id/report.pdf',
    {
      config: STAFF_OF_COMMUNITY,
      schema: {
        tags: ['reports'],
        summary: 'The same report as a printable PDF (A4), rendered by Chromium from the console page',
        params: IdParams,
        querystring: PeriodQuery,
        produces: ['application/pdf'],
      },
    },
    async (req, reply) => {
      const r = await report(req);
      // Loaded on the first PDF only: the server does not need playwright-core otherwise.
      const { renderReportPdf } = await import('../reports/pdf.ts');
      const pdf = await renderReportPdf(r, { language: req.query.lang });
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="${fileName(r, 'pdf')}"`)
        .send(pdf);
    },
  );

  const Window = z.string().meta({ description: 'A daily window in local time, HH:MM-HH:MM.' });
  const TrendsResponse = z.object({
    residentId: z.string(),
    timeZone: z.string(),
    sleepWindow: Window.meta({ description: "The resident's sleep window: their nights." }),
    nightDoorWindow: Window.meta({ description: 'When the door counts as opened at night.' }),
    trends: z.array(
      z.object({
        series: z.enum(TREND_SERIES),
        days: z.array(z.object({ day: z.string(), value: z.number().nullable() })),
        weeks: z.array(
          z.object({
            from: z.string(),
            mean: z.number().nullable(),
            departure: z.enum(['higher', 'lower']).nullable(),
          }),
        ),
      }),
    ),
  });

  api.get(
    '/api/v1/residents/:id/trends',
    {
      config: STAFF,
      schema: {
        tags: ['residents'],
        summary: "A resident's daily trends, with the weeks that depart from their own earlier weeks",
        description:
          "Per local day: motion events, steps; per night (the resident's sleep window) time in bed (in the " +
          'bedroom as the room sensors saw it) and bathroom visits; front-door openings at night; water used; ' +
          'resting heart rate (lowest hourly mean). Shown to staff as early signs of decline; never alerted. ' +
          'Family: 403.',
        params: IdParams,
        querystring: z.strictObject({
          days: z
            .enum(['30', '90'])
            .default('30')
            .meta({ description: 'How many days back, today included.' }),
        }),
        response: { 200: TrendsResponse },
      },
    },
    async (req) => {
      const context = await opts.residentContext(req.params.id);
      if (context === undefined) throw new HttpProblem(404, `no resident ${req.params.id}`);
      const trends = await residentTrends(opts.store, {
        residentId: req.params.id,
        days: Number(req.query.days) as 30 | 90,
        timeZone: context.timeZone,
        now: Date.now(),
        home: context.home,
      });
      const window = (w: { from: number; to: number }) =>
        `${formatTimeOfDay(w.from)}-${formatTimeOfDay(w.to)}`;
      return {
        residentId: req.params.id,
        timeZone: context.timeZone,
        sleepWindow: window(context.home.sleep),
        nightDoorWindow: window(context.home.nightDoor),
        trends,
      };
    },
  );
}
