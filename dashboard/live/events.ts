// What the server pushes to the console and the family page: event names and their payloads.
import type { Alert, AuditEntry, Recipient } from '../../alerting/alerts/index.ts';

export const ALERT_EVENTS = {
  /** An alert opened. */
  new: 'alert:new',
  /** Anything else changed: repeat, severity, acknowledgement, resolution, note, escalation. */
  update: 'alert:update',
  /** Escalation asks the people in this room to act (the console plays its sound). */
  notify: 'alert:notify',
} as const;

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
