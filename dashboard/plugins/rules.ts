// Per-resident rule thresholds for admins: read the community's rules and this resident's overrides,
// replace the overrides after checking them against the rule schema.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Registry } from '../../registry/index.ts';
import {
  checkOverrides,
  communityRules,
  type ResidentRuleStore,
} from '../../alerting/resident-rules/index.ts';
import { scopeOf } from './access.ts';
import { HttpProblem, problem } from './problem.ts';

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });
const Overrides = z
  .record(z.string(), z.unknown())
  .meta({ description: 'Any part of the rule configuration, e.g. {"gas": {"methane": {"alarm": 20}}}.' });

const RulesBody = z.object({
  residentId: z.string(),
  overrides: Overrides,
  community: z.record(z.string(), z.unknown()).meta({
    description: "The community's rules the overrides are merged over (shipped defaults + rules file).",
  }),
  updatedAt: z.number().int().nullable(),
  updatedBy: z.string().nullable(),
});

const RuleProblem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

// A rules document is small; this bounds what one request can make the server merge and validate.
const MAX_OVERRIDES_BYTES = 32 * 1024;

export interface RuleRoutesOptions {
  registry: Pick<Registry, 'getResident'>;
  rules: ResidentRuleStore;
  rulesFile?: string;
}

export default async function ruleRoutesPlugin(app: FastifyInstance, opts: RuleRoutesOptions) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  async function answer(residentId: string) {
    const stored = await opts.rules.get(residentId);
    return {
      residentId,
      overrides: stored?.overrides ?? {},
      community: communityRules(opts.rulesFile),
      updatedAt: stored?.updatedAt ?? null,
      updatedBy: stored?.updatedBy ?? null,
    };
  }

  api.get(
    '/api/v1/residents/:id/rules',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['residents'],
        summary: "This resident's rule overrides and the community rules they change",
        params: IdParams,
        response: { 200: RulesBody },
      },
    },
    async (req) => {
      if (!(await opts.registry.getResident(req.params.id)))
        throw new HttpProblem(404, `no resident ${req.params.id}`);
      return answer(req.params.id);
    },
  );

  api.put(
    '/api/v1/residents/:id/rules',
    {
      config: { roles: ['admin'] },
      bodyLimit: MAX_OVERRIDES_BYTES,
      schema: {
        tags: ['residents'],
        summary: "Replace this resident's rule overrides; 400 lists every problem with the merged rules",
        params: IdParams,
        body: z.strictObject({ overrides: Overrides }),
        response: { 200: RulesBody, 400: RuleProblem },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await opts.registry.getResident(id))) throw new HttpProblem(404, `no resident ${id}`);
      const issues = checkOverrides(opts.rulesFile, id, req.body.overrides);
      if (issues.length > 0) {
        return reply
          .code(400)
          .type('application/problem+json')
          .send({
            ...problem(400, 'the overrides do not make valid rules for this resident', { errors: issues }),
            instance: req.url,
          });
      }
      await opts.rules.put(id, req.body.overrides, scopeOf(req).actor);
      return answer(id);
    },
  );
}
