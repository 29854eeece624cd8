// Who lives in each home, its time zone and its devices, watched for changes, so that the rules follow
// a resident added, a zone changed or a device registered or revoked without a restart. Changes made by
// this process arrive through the registry's own event; changes by another process on the same database
// (`anju import`, `anju device add`, a second server on PostgreSQL) move a change marker
// (registry_changes), read every second.
import type { Registry } from './index.ts';
import { logErrors } from '../ops/fallback-log.ts';

export interface HomeWatchOptions {
  /** How often another process's changes are looked for. */
  everyMs?: number;
  /** A check failed (the database busy or away, say); the next one tries again. */
  onError?: (err: unknown) => void;
}

/** homeId -> a fingerprint of what the rules take from the home: zone, residents, devices (sorted). */
async function fingerprints(registry: Registry): Promise<Map<string, string>> {
  const [residents, devices] = await Promise.all([registry.listResidents(), registry.listDevices()]);
  const parts = new Map<string, string[]>();
  const add = (homeId: string, part: string) => parts.set(homeId, [...(parts.get(homeId) ?? []), part]);
  for (const r of residents)
    add(r.home.homeId, `r ${r.id} ${r.home.timeZone ?? r.home.communityTimeZone ?? ''}`);
  for (const d of devices)
    add(d.homeId, `d ${d.id} ${d.kind} ${d.residentId ?? ''} ${d.room ?? ''} ${d.revokedAt !== null}`);
  return new Map([...parts].map(([homeId, list]) => [homeId, list.sort().join('\n')]));
}

/**
 * Calls `onChange` with the homes whose residents, zone or devices changed. The first state is read in
 * the background; a change made before it is known is not reported. Returns a stop function.
 */
export function watchHomes(
  registry: Registry,
  onChange: (homeIds: string[]) => void,
  options: HomeWatchOptions = {},
): () => void {
  let version: number | undefined;
  let known: Map<string, string> | undefined;
  let stopped = false;
  const onError = options.onError ?? logErrors('registry', 'home watch failed');
  const compare = async (force: boolean) => {
    const v = await registry.homesVersion();
    if (!force && v === version) return;
    const now = await fingerprints(registry);
    if (stopped) return;
    const before = known;
    known = now;
    version = v;
    if (before === undefined) return;
    const changed: string[] = [];
    for (const [homeId, print] of now) if (before.get(homeId) !== print) changed.push(homeId);
    for (const homeId of before.keys()) if (!now.has(homeId)) changed.push(homeId);
    if (changed.length > 0) onChange(changed);
  };
  // One check at a time; one asked for meanwhile runs after it, so that no change is missed.
  let checking = false;
  let again: boolean | undefined;
  const check = (force: boolean) => {
    if (checking) {
      again = (again ?? false) || force;
      return;
    }
    checking = true;
    compare(force)
      .catch(onError)
      .finally(() => {
        checking = false;
        const next = again;
        again = undefined;
        if (next !== undefined && !stopped) check(next);
      });
  };
  check(true);
  const stopEvents = registry.onHomesChanged(() => check(true));
  const timer = setInterval(() => check(false), options.everyMs ?? 1000);
  timer.unref();
  return () => {
    stopped = true;
    stopEvents();
    clearInterval(timer);
  };
}
