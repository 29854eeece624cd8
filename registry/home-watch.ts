// Who lives in each home and its time zone, watched for changes, so that the rules follow a resident
// added or a zone changed without a restart. Changes made by this process arrive through the registry's own
// event; changes by another process on the same file (`anju import`, `anju resident add`) are noticed by
// SQLite's data_version, which moves only when another connection commits, checked every second.
import type { Database } from 'better-sqlite3';
import type { Registry } from './index.ts';

export interface HomeWatchOptions {
  /** How often another process's commits are looked for. */
  everyMs?: number;
  /** A timed check failed (the file busy, say); the next one tries again. */
  onError?: (err: unknown) => void;
}

/** homeId -> a fingerprint of what the rules take from the home: its time zone and residents (sorted). */
function fingerprints(db: Database): Map<string, string> {
  const rows = db
    .prepare<[], { homeId: string; print: string }>(
      `SELECT h.id AS homeId,
         coalesce(h.time_zone, c.time_zone, '') || ' ' || coalesce(
           (SELECT group_concat(id, ',') FROM (SELECT id FROM residents WHERE home_id = h.id ORDER BY id)),
           '') AS print
       FROM homes h
       JOIN buildings b ON b.id = h.building_id
       JOIN compounds p ON p.id = b.compound_id
       JOIN communities c ON c.id = p.community_id`,
    )
    .all();
  return new Map(rows.map((r) => [r.homeId, r.print]));
}

/** Calls `onChange` with the homes whose residents or zone changed since the last call. Returns a stop function. */
export function watchHomes(
  registry: Registry,
  onChange: (homeIds: string[]) => void,
  options: HomeWatchOptions = {},
): () => void {
  const db = registry.database;
  const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
  let version = dataVersion();
  let known = fingerprints(db);
  const check = () => {
    const now = fingerprints(db);
    const changed: string[] = [];
    for (const [homeId, print] of now) if (known.get(homeId) !== print) changed.push(homeId);
    for (const homeId of known.keys()) if (!now.has(homeId)) changed.push(homeId);
    known = now;
    if (changed.length > 0) onChange(changed);
  };
  const stopEvents = registry.onHomesChanged(check);
  const onError = options.onError ?? ((err) => process.emitWarning(`registry: home watch failed: ${err}`));
  const timer = setInterval(() => {
    try {
      const v = dataVersion();
      if (v === version) return;
      check();
      version = v;
    } catch (err) {
      onError(err);
    }
  }, options.everyMs ?? 1000);
  timer.unref();
  return () => {
    stopEvents();
    clearInterval(timer);
  };
}
