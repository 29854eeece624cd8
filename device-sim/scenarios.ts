// Scripted scenarios: emergencies, device trouble and protocol faults, each at a time and for a target.
// One zod schema validates both forms, so they mean the same:
//
//   command line   --scenario KIND@TARGET@WHEN[,key=value...]
//                  --scenario sos@resident-3@+10m
//                  --scenario fall@resident-2@07:45,cancelled=true
//                  --scenario malformed@resident-1:wearable@+1m,count=5
//   file (YAML/JSON)  scenarios: [{ kind: sos, target: resident-3, at: +10m }, ...]
//
// TARGET is a resident (`resident-3`), a resident's device by role (`resident-3:gas`), a device id, or
// `all` for a heat wave or cold spell that hits every home. WHEN is `+10m` after the run starts, a local
// clock time `02:30` (the first at or after the start) or an ISO time.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues } from '../ops/config-file.ts';
import {
  DEVICE_ROLES,
  devicesOfResident,
  findResident,
  type Community,
  type DeviceRole,
  type SimDevice,
  type SimResident,
} from './community.ts';
import { isWhen, parseDuration, parseSignedDuration, resolveWhen } from './time.ts';

function durationField(fallback: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
}

const base = {
  target: z.string().min(1).meta({ description: 'resident-3, resident-3:gas, a device id, or all' }),
  at: z.string().refine(isWhen, { message: 'use +10m (after the start), 02:30 (local time) or an ISO time' }),
};

export const MALFORMED_VARIANTS = ['json', 'schema', 'range', 'topic', 'too_large'] as const;
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

export const Scenario = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sos'), ...base }),
  z.strictObject({
    kind: z.literal('fall'),
    ...base,
    cancelled: z.boolean().default(false).meta({ description: 'the wearer cancels it within the window' }),
    for: durationField('1h').meta({ description: 'how long the wearer lies still when not cancelled' }),
  }),
  z.strictObject({ kind: z.literal('collapse'), ...base, for: durationField('8h') }),
  z.strictObject({ kind: z.literal('night_wandering'), ...base, for: durationField('20m') }),
  z.strictObject({
    kind: z.literal('gas_leak'),
    ...base,
    peak: z.number().min(1).max(100).default(60).meta({ description: '% LEL at the height of the leak' }),
    ramp: durationField('10m'),
    hold: durationField('15m'),
  }),
  z.strictObject({
    kind: z.literal('co_ramp'),
    ...base,
    peak: z.number().min(1).max(10_000).default(300).meta({ description: 'ppm at the height' }),
    ramp: durationField('20m'),
    hold: durationField('30m'),
  }),
  z.strictObject({
    kind: z.literal('cold_home'),
    ...base,
    to: z.number().min(-10).max(30).default(12).meta({ description: 'C the rooms fall towards' }),
    for: durationField('12h'),
  }),
  z.strictObject({
    kind: z.literal('heat_wave'),
    ...base,
    peak: z.number().min(25).max(50).default(35).meta({ description: 'C outdoors at 14:00' }),
    for: durationField('2d'),
  }),
  z.strictObject({ kind: z.literal('not_worn'), ...base, for: durationField('4h') }),
  z.strictObject({ kind: z.literal('device_offline'), ...base, for: durationField('30m') }),
  z.strictObject({ kind: z.literal('battery_dead'), ...base, over: durationField('2h') }),
  z.strictObject({
    kind: z.literal('malformed'),
    ...base,
    count: z.number().int().min(1).max(1000).default(5),
    variant: z
      .enum(MALFORMED_VARIANTS)
      .optional()
      .meta({ description: 'one kind of fault; default all in turn' }),
  }),
  z.strictObject({ kind: z.literal('wrong_credentials'), ...base, for: durationField('5m') }),
  z.strictObject({
    kind: z.literal('clock_skew'),
    ...base,
    skew: z
      .string()
      .default('-30d')
      .transform((text, ctx) => {
        try {
          return parseSignedDuration(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    for: durationField('10m'),
  }),
  z.strictObject({ kind: z.literal('duplicates'), ...base, for: durationField('10m') }),
  z.strictObject({
    kind: z.literal('burst'),
    ...base,
    count: z.number().int().min(1).max(100_000).default(100),
    within: durationField('10s'),
  }),
]);
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioKind = Scenario['kind'];
export type ScenarioInput = z.input<typeof Scenario>;
export const SCENARIO_KINDS = Scenario.options.map((o) => o.shape.kind.value);

const ScenarioList = z.array(Scenario);
const ScenarioFileObject = z.strictObject({ scenarios: ScenarioList });

/** Which of a resident's devices a kind acts on when the target names only the resident. */
const DEFAULT_ROLE: Partial<Record<ScenarioKind, DeviceRole>> = {
  gas_leak: 'gas',
  co_ramp: 'co',
  device_offline: 'wearable',
  battery_dead: 'wearable',
  malformed: 'wearable',
  wrong_credentials: 'wearable',
  clock_skew: 'wearable',
  duplicates: 'wearable',
  burst: 'wearable',
};
const EVERY_HOME: readonly ScenarioKind[] = ['heat_wave', 'cold_home'];

function coerce(value: string): string | number | boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/** `gas_leak@resident-4@+3m,peak=40` -> a validated Scenario. */
export function parseScenarioSpec(spec: string): Scenario {
  const [head, ...params] = spec.split(',');
  const parts = head!.split('@');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new Error(`scenario "${spec}": expected KIND@TARGET@WHEN[,key=value...], e.g. sos@resident-3@+10m`);
  }
  const [kind, target, at] = parts as [string, string, string];
  if (!(SCENARIO_KINDS as string[]).includes(kind)) {
    throw new Error(`scenario "${spec}": unknown kind "${kind}"; known: ${SCENARIO_KINDS.join(', ')}`);
  }
  const input: Record<string, unknown> = { kind, target, at };
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new Error(`scenario "${spec}": "${param}" is not key=value`);
    input[param.slice(0, eq)] = coerce(param.slice(eq + 1));
  }
  const parsed = Scenario.safeParse(input);
  if (!parsed.success) throw new Error(`scenario "${spec}": ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads a YAML or JSON scenario file: a list of scenarios, or `{ scenarios: [...] }`. */
export function loadScenarioFile(file: string): Scenario[] {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8')); // YAML 1.2 reads JSON too
  } catch (err) {
    throw new Error(`scenario file ${file}: ${(err as Error).message}`);
  }
  // Two schemas rather than a union, so that an error names the field instead of "invalid input".
  const parsed = Array.isArray(data) ? ScenarioList.safeParse(data) : ScenarioFileObject.safeParse(data);
  if (!parsed.success) throw new Error(`scenario file ${file}: ${formatIssues(parsed.error)}`);
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.scenarios;
}

/** A scenario bound to a time and to the residents and device it acts on. */
export interface ResolvedScenario {
  scenario: Scenario;
  at: number;
  residents: SimResident[];
  device?: SimDevice;
}

function resolveTarget(community: Community, s: Scenario): Pick<ResolvedScenario, 'residents' | 'device'> {
  const role = DEFAULT_ROLE[s.kind];
  if (s.target === 'all') {
    if (!EVERY_HOME.includes(s.kind))
      throw new Error(`${s.kind}: target "all" is only for ${EVERY_HOME.join(' and ')}`);
    return { residents: community.residents };
  }
  const byId = community.devices.find((d) => d.id === s.target);
  const [residentKey, roleName] = byId ? [byId.residentKey, byId.role] : s.target.split(':');
  const resident = findResident(community, residentKey!);
  if (!resident) {
    throw new Error(
      `${s.kind}: no resident or device "${s.target}" (residents are resident-1 .. resident-${community.residents.length})`,
    );
  }
  if (!role) {
    if (roleName !== undefined)
      throw new Error(`${s.kind} happens to a resident: target ${resident.key}, not a device`);
    return { residents: [resident] };
  }
  const wanted = roleName ?? role;
  if (!(DEVICE_ROLES as readonly string[]).includes(wanted)) {
    throw new Error(`${s.kind}: unknown device role "${wanted}"; roles: ${DEVICE_ROLES.join(', ')}`);
  }
  const device = devicesOfResident(community, resident.key).find((d) => d.role === wanted);
  if (!device) {
    const having = community.residents
      .filter((r) => devicesOfResident(community, r.key).some((d) => d.role === wanted))
      .map((r) => r.key);
    throw new Error(
      `${s.kind}: ${resident.key} has no ${wanted} device; these do: ${having.join(', ') || 'none'}`,
    );
  }
  if ((s.kind === 'gas_leak' && device.gas === 'co') || (s.kind === 'co_ramp' && device.gas !== 'co')) {
    throw new Error(`${s.kind}: ${device.id} measures ${device.gas}`);
  }
  if (s.kind === 'battery_dead' && !device.battery)
    throw new Error(`battery_dead: ${device.id} is mains-powered`);
  return { residents: [resident], device };
}

export function resolveScenarios(
  community: Community,
  scenarios: Scenario[],
  runStart: number,
): ResolvedScenario[] {
  return scenarios.map((scenario) => ({
    scenario,
    at: resolveWhen(scenario.at, runStart, community.utcOffsetMin),
    ...resolveTarget(community, scenario),
  }));
}
