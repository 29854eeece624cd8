// Every alert change, pushed to the rooms that may see it.
import type { Server } from 'socket.io';
import type { AlertChange } from '../../alerting/alerts/index.ts';
import { ALERT_EVENTS, type AlertChangePayload } from './events.ts';
import { roomsFor } from './rooms.ts';

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
