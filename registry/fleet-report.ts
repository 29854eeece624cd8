// Read-only figures about a community for its reports: its name and time zone, how many residents it
// has, and its devices by kind (installed, revoked, online now). Portable SQL for SQLite and PostgreSQL.
import type { Sql } from '../database/sql.ts';

export interface CommunityFacts {
  id: string;
  name: string;
  /** The community's own zone; null inherits the rules' default. */
  timeZone: string | null;
  residents: number;
}

export interface FleetByKind {
  kind: string;
  /** Devices installed and not revoked. */
  active: number;
  /** Of the active ones, those connected now. */
  online: number;
  revoked: number;
}

/** From a home `h` up to its community, which is the one parameter. */
const HOMES_OF_COMMUNITY = `
  JOIN buildings b ON b.id = h.building_id
  JOIN compounds c ON c.id = b.compound_id
 WHERE c.community_id = ?`;

/** The community, or undefined when there is none with this id. */
export async function communityFacts(db: Sql, communityId: string): Promise<CommunityFacts | undefined> {
  const community = await db.one<{ id: string; name: string; timeZone: string | null }>(
    'SELECT id, name, time_zone AS "timeZone" FROM communities WHERE id = ?',
    [communityId],
  );
  if (!community) return undefined;
  const count = await db.one<{ n: number }>(
    `SELECT COUNT(*) AS n FROM residents r JOIN homes h ON h.id = r.home_id ${HOMES_OF_COMMUNITY}`,
    [communityId],
  );
  return { ...community, residents: Number(count?.n ?? 0) };
}

/** The community's devices by kind, kinds in name order. */
export async function fleetOf(db: Sql, communityId: string): Promise<FleetByKind[]> {
  const rows = await db.all<{ kind: string; active: number; online: number; revoked: number }>(
    `SELECT d.kind,
            SUM(CASE WHEN d.revoked_at IS NULL THEN 1 ELSE 0 END) AS active,
            SUM(CASE WHEN d.revoked_at IS NULL AND d.online = 1 THEN 1 ELSE 0 END) AS online,
            SUM(CASE WHEN d.revoked_at IS NULL THEN 0 ELSE 1 END) AS revoked
       FROM devices d JOIN homes h ON h.id = d.home_id ${HOMES_OF_COMMUNITY}
      GROUP BY d.kind
      ORDER BY d.kind`,
    [communityId],
  );
  return rows.map((r) => ({
    kind: r.kind,
    active: Number(r.active),
    online: Number(r.online),
    revoked: Number(r.revoked),
  }));
}

/** Every community, by name: what a report can be asked for. */
export async function listCommunities(db: Sql): Promise<{ id: string; name: string }[]> {
  return db.all('SELECT id, name FROM communities ORDER BY name, id');
}
