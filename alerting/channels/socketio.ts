// Alerts over Socket.IO. Staff of a community are in room `community:<id>`, a resident's family in
// `resident:<id>`, admins in `alerts:all`; the dashboard puts each socket in its rooms after checking
// who it is. Every alert change goes to the rooms that may see it; escalation reminders (alert:notify)
// go to the one room a step names.
import type { Server } from 'socket.io';
import {
  SYSTEM_RESIDENT,
  type Alert,
  type AlertChange,
  type AuditEntry,
  type Recipient,
} from '../alerts/schemas.ts';
import { errorText, type Channel, type DeliveryResult, type Notification } from './channel.ts';

export const ALERT_EVENTS = {
  /** An alert opened. */
  new: 'alert:new',
  /** Anything else changed: repeat, severity, acknowledgement, resolution, note, escalation. */
  update: 'alert:update',
  /** Escalation asks the people in this room to act (the console plays its sound). */
  notify: 'alert:notify',
} as const;

export const ALL_ALERTS_ROOM = 'alerts:all';
/** Alerts about Anju itself (storage): every staff console is in this room. */
export const SYSTEM_ALERTS_ROOM = 'alerts:system';

export function communityRoom(communityId: string): string {
  return `community:${communityId}`;
}

export function residentRoom(residentId: string): string {
  return `resident:${residentId}`;
}

export interface AlertChangePayload {
  alert: Alert;
  audit: AuditEntry;
}

export interface AlertNotifyPayload {
  alert: Alert;
  resident: { name: string; home: string } | null;
  step: number;
  round: number;
  recipient: Pick<Recipient, 'kind' | 'id' | 'name'>;
}

/** Typing for socket.io's `Server<ClientToServer, ServerToClient>` and the client's `Socket`. */
export interface AlertServerToClientEvents {
  'alert:new': (payload: AlertChangePayload) => void;
  'alert:update': (payload: AlertChangePayload) => void;
  'alert:notify': (payload: AlertNotifyPayload) => void;
}

/** The rooms that may see this alert. */
export function roomsFor(alert: Alert): string[] {
  if (alert.residentId === SYSTEM_RESIDENT) return [ALL_ALERTS_ROOM, SYSTEM_ALERTS_ROOM];
  const rooms = [ALL_ALERTS_ROOM, residentRoom(alert.residentId)];
  if (alert.communityId !== null) rooms.push(communityRoom(alert.communityId));
  return rooms;
}

export function emitAlertChange(io: Server, change: AlertChange): void {
  const payload: AlertChangePayload = { alert: change.alert, audit: change.audit };
  io.to(roomsFor(change.alert)).emit(change.type === 'new' ? ALERT_EVENTS.new : ALERT_EVENTS.update, payload);
}

/** Pushes every change of `source` (an AlertService) to Socket.IO; returns the unsubscribe function. */
export function publishAlertChanges(
  io: Server,
  source: { onChange(listener: (change: AlertChange) => void): () => void },
): () => void {
  return source.onChange((change) => emitAlertChange(io, change));
}

/** The escalation channel for the console and the family page: the recipient's address is a room. */
export class SocketIoChannel implements Channel {
  readonly name = 'socketio';
  private readonly view: (alert: Alert) => Alert | Promise<Alert>;
  private readonly now: () => number;

  constructor(
    private readonly io: Server,
    options: {
      /** The alert as the console shows it everywhere else (the dashboard's view, with names). */
      view?: (alert: Alert) => Alert | Promise<Alert>;
      now?: () => number;
    } = {},
  ) {
    this.view = options.view ?? ((alert) => alert);
    this.now = options.now ?? Date.now;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    try {
      const payload: AlertNotifyPayload = {
        alert: await this.view(n.alert),
        resident: n.resident,
        step: n.step,
        round: n.round,
        recipient: { kind: n.recipient.kind, id: n.recipient.id, name: n.recipient.name },
      };
      // Socket.IO has no delivery receipt for a room broadcast: "ok" means handed to the sockets.
      this.io.to(n.recipient.address).emit(ALERT_EVENTS.notify, payload);
      return { attempts: [{ at: this.now(), ok: true, error: null }] };
    } catch (err) {
      return { attempts: [{ at: this.now(), ok: false, error: errorText(err) }] };
    }
  }
}
