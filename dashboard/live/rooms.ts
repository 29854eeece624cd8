// The Socket.IO rooms of the console and the family page. Staff of a community are in `community:<id>`,
// a resident's family in `resident:<id>`, admins in `alerts:all`; socket.ts puts each socket in the rooms
// of its Scope after checking who it is. The names live only on the server: clients never name a room.
import { SYSTEM_RESIDENT, type Alert, type AppAudience } from '../../alerting/alerts/index.ts';

export const ALL_ALERTS_ROOM = 'alerts:all';
/** Alerts about Anju itself (storage): every staff console is in this room. */
export const SYSTEM_ALERTS_ROOM = 'alerts:system';

export function communityRoom(communityId: string): string {
  return `community:${communityId}`;
}

export function residentRoom(residentId: string): string {
  return `resident:${residentId}`;
}

/** The room of an in-app notification's audience: the community's console or the resident's family. */
export function audienceRoom(audience: AppAudience): string {
  return audience.kind === 'community' ? communityRoom(audience.id) : residentRoom(audience.id);
}

/** The rooms that may see this alert. */
export function roomsFor(alert: Alert): string[] {
  if (alert.residentId === SYSTEM_RESIDENT) return [ALL_ALERTS_ROOM, SYSTEM_ALERTS_ROOM];
  const rooms = [ALL_ALERTS_ROOM, residentRoom(alert.residentId)];
  if (alert.communityId !== null) rooms.push(communityRoom(alert.communityId));
  return rooms;
}
