// The alerts this user may see, kept live over Socket.IO. The server puts the socket in the rooms of the
// user's scope; this merges what it pushes into one map, newest version of each alert wins, and on every
// (re)connect catches up on what changed while the socket was away ('alerts:sync').
import { io, type Socket } from 'socket.io-client';
import { reactive, ref } from 'vue';
import { api, withQuery } from './api.ts';
import { beep, flashTitle, flashing, stopFlash } from './alarm.ts';
import { t } from './i18n/index.ts';
import type { Alert, AlertDetail, AlertView, AuditEntry } from './types.ts';

interface ChangePayload {
  alert: Alert | AlertView;
  audit: AuditEntry;
}
interface NotifyPayload {
  alert: Alert | AlertView;
  resident: { name: string; home: string } | null;
}

export const alerts = reactive(new Map<string, AlertView>());
export const connection = ref<'connecting' | 'live' | 'offline'>('connecting');

let socket: Socket | null = null;
let lastUpdatedAt = 0;
let loaded = false;
/** The critical alerts the title is flashing for; it stops once none of them is still open. */
const flashingFor = new Set<string>();

function hasView(a: Alert | AlertView): a is AlertView {
  return 'residentName' in a;
}

/** Keeps the newer version; an alert pushed without names borrows them from the copy we have, or `names`. */
export function upsert(
  incoming: Alert | AlertView,
  names?: { residentName: string; homeLabel: string },
): AlertView {
  const known = alerts.get(incoming.id);
  lastUpdatedAt = Math.max(lastUpdatedAt, incoming.updatedAt);
  if (known && known.updatedAt > incoming.updatedAt) return known;
  const view: AlertView = hasView(incoming)
    ? incoming
    : {
        ...incoming,
        residentName: known?.residentName ?? names?.residentName ?? null,
        homeLabel: known?.homeLabel ?? names?.homeLabel ?? null,
        people: known?.people ?? {},
      };
  alerts.set(view.id, view);
  if (flashingFor.has(view.id) && view.state !== 'open') {
    flashingFor.delete(view.id);
    if (flashingFor.size === 0) stopFlash();
  }
  return view;
}

async function fillNames(id: string): Promise<void> {
  const detail = await api.get<AlertDetail>(`/api/v1/alerts/${encodeURIComponent(id)}`);
  upsert(detail.alert);
}

function alarmFor(view: AlertView): void {
  if (view.severity !== 'critical' || view.state !== 'open') return;
  beep();
  flashingFor.add(view.id);
  flashTitle(t('console.newCritical'));
}

function onChange(kind: 'new' | 'update', alert: Alert | AlertView): void {
  const before = alerts.get(alert.id);
  const view = upsert(alert);
  // The socket may push a bare Alert; the names come from the API once.
  if (!hasView(alert) && view.residentName === null) void fillNames(view.id).catch(() => undefined);
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
    const names = p.resident ? { residentName: p.resident.name, homeLabel: p.resident.home } : undefined;
    const view = upsert(p.alert, names);
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
