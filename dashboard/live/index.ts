// The live side of the console and the family page: rooms, events and the escalation channel.
export { publishAlertChanges, emitAlertChange } from './alert-changes.ts';
export {
  ALERT_EVENTS,
  type AlertChangePayload,
  type AlertNotifyPayload,
  type AlertServerToClientEvents,
} from './events.ts';
export {
  ALL_ALERTS_ROOM,
  SYSTEM_ALERTS_ROOM,
  audienceRoom,
  communityRoom,
  residentRoom,
  roomsFor,
} from './rooms.ts';
export { SocketIoChannel } from './socketio-channel.ts';
