// What a resident's trends need to know about them beyond their readings, as the rule engine sees it:
// their time zone, their sleep and night-door windows (the rules in force for them, overrides included)
// and the room sensors of their home.
import type { ResidentRuleStore } from '../../alerting/resident-rules/index.ts';
import { ruleSetWith } from '../../alerting/resident-rules/index.ts';
import { RuleFileError, type RuleSet } from '../../alerting/rules/load.ts';
import type { Registry } from '../../registry/index.ts';
import type { TrendHome } from './trends.ts';

export interface TrendContext {
  timeZone: string;
  home: TrendHome;
}

export async function trendContext(
  sources: { registry: Registry; residentRules: ResidentRuleStore; rulesFile?: string | undefined },
  residentId: string,
): Promise<TrendContext | undefined> {
  const resident = await sources.registry.getResident(residentId);
  if (!resident) return undefined;
  const [overrides, devices] = await Promise.all([
    sources.residentRules.get(residentId),
    sources.registry.listDevices({ homeId: resident.home.homeId }),
  ]);
  const rules = rulesFor(sources.rulesFile, residentId, overrides?.overrides ?? {});
  const own = rules.forResident(residentId);
  return {
    // As the engine picks it: the resident's own override, the home's, the community's, the rules file's.
    timeZone:
      rules.timezoneOverride(residentId) ??
      resident.home.timeZone ??
      resident.home.communityTimeZone ??
      own.timezone,
    home: {
      // Revoked monitors stay: their past readings are part of the period.
      devices: devices
        .filter((d) => d.kind === 'env_monitor' && (d.residentId === null || d.residentId === residentId))
        .map((d) => ({ id: d.id, room: d.room })),
      sleep: own.absence.routine.sleep,
      nightDoor: own.absence.nightDoor.window,
    },
  };
}

/**
 * The rules in force for the resident. A rules file being edited into an invalid state is refused by the
 * engine, which keeps its previous rules; the trends then fall back to the shipped defaults rather than
 * fail: they only need the windows.
 */
function rulesFor(
  rulesFile: string | undefined,
  residentId: string,
  overrides: Record<string, unknown>,
): RuleSet {
  try {
    return ruleSetWith(rulesFile, { [residentId]: overrides });
  } catch (err) {
    if (!(err instanceof RuleFileError)) throw err;
    return ruleSetWith(undefined, {});
  }
}
