// The alerts this user may see, kept live over Socket.IO. The server puts the socket in the rooms of the
// user's scope; this merges what it pushes into one map, newest version of each alert wins, and on every
// (re)connect catches up on what changed while the socket was away ('alerts:sync').
import { io, type Socket } from 'socket.io-client';
import { reactive, ref } from 'vue';
import { api, withQuery } from './api.ts';
import { beep, flashTitle, flashing, stopFlash } from './alarm.ts';
import { t } from './i18n/index.ts';
import type { AlertView, AuditEntry } from './types.ts';

// The server names every alert it pushes (an AlertView), on every event, as in its HTTP answers.
interface ChangePayload {
  alert: AlertView;
  audit: AuditEntry;
}
interface NotifyPayload {
  alert: AlertView;
}

export const alerts = reactive(new Map<string, AlertView>());
export const connection = ref<'connecting' | 'live' | 'offline'>('connecting');

let socket: Socket | null = null;
let lastUpdatedAt = 0;
let loaded = false;
/** The critical alerts the title is flashing for; it stops once none of them is still open. */
const flashingFor = new Set<string>();

/** Keeps the newer version of an alert. */
export function upsert(view: AlertView): AlertView {
  const known = alerts.get(view.id);
  lastUpdatedAt = Math.max(lastUpdatedAt, view.updatedAt);
  if (known && known.updatedAt > view.updatedAt) return known;
  alerts.set(view.id, view);
  if (flashingFor.has(view.id) && view.state !== 'open') {
    flashingFor.delete(view.id);
    if (flashingFor.size === 0) stopFlash();
  }
  return view;
}

function alarmFor(view: AlertView): void {
  if (view.severity !== 'critical' || view.state !== 'open') return;
  beep();
  flashingFor.add(view.id);
  flashTitle(t('console.newCritical'));
}

function onChange(kind: 'new' | 'update', alert: AlertView): void {
  const before = alerts.get(alert.id);
  const view = upsert(alert);
  const becameCritical =
    before !== undefined && before.severity !== 'critical' && view.severity === 'critical';
  if (kind === 'new' || becameCritical) alarmFor(view);
}

async function catchUp(s: Socket): Promise<void> {
  if (!loaded) {
    // First connection: everything still active. Later ones: only what changed since the newest we saw.
    const { alerts: list } = await api.get<{ alerts: AlertView[] }>(
      withQuery('/api/v1/alerts', { state: 'active', limit: 500 }),
    );
    for (const a of list) upsert(a);
    loaded = true;
    return;
  }
  const since = lastUpdatedAt;
  const reply = await s.timeout(10_000).emitWithAck('alerts:sync', { since });
  const list = (reply as { alerts?: AlertView[] }).alerts ?? [];
  for (const a of list) onChange(alerts.has(a.id) ? 'update' : 'new', a);
}

export function startLiveAlerts(): void {
  if (socket) return;
  connection.value = 'connecting';
  const s = io({ path: '/socket.io', withCredentials: true });
  socket = s;
  s.on('connect', () => {
    connection.value = 'live';
    void catchUp(s).catch(() => undefined);
  });
  s.on('disconnect', () => (connection.value = 'offline'));
  s.on('connect_error', () => (connection.value = 'offline'));
  s.on('alert:new', (p: ChangePayload) => onChange('new', p.alert));
  s.on('alert:update', (p: ChangePayload) => onChange('update', p.alert));
  s.on('alert:notify', (p: NotifyPayload) => {
    const view = upsert(p.alert);
    // An escalation reminder for an alert nobody has taken is worth another beep.
    if (view.state === 'open' && view.severity !== 'info') beep();
  });
}

export function stopLiveAlerts(): void {
  socket?.disconnect();
  socket = null;
  loaded = false;
  lastUpdatedAt = 0;
  alerts.clear();
  flashingFor.clear();
  if (flashing.value) stopFlash();
  connection.value = 'connecting';
}

/** Stop flashing once a person is clearly at the screen. */
export function noticeUserPresence(): void {
  if (flashing.value) {
    flashingFor.clear();
    stopFlash();
  }
}
