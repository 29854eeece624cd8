// What the dashboard API answers (notes: dashboard contract). Records the server already defines with zod
// are imported as types from there, so the UI and the server cannot drift apart silently.
import type { Alert, AuditEntry, Delivery, Outcome } from '../../../alerting/alerts/schemas.ts';
import type { Severity } from '../../../alerting/signals.ts';
import type { Contact, Device, Resident } from '../../../registry/schemas.ts';

export type { Alert, AuditEntry, Contact, Delivery, Outcome, Resident, Severity };

export type Role = 'admin' | 'staff' | 'family';
export type Language = 'zh-CN' | 'en';

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  language: Language;
}

export interface SessionInfo {
  user: SessionUser;
  csrfToken: string;
}

/** residentName and homeLabel are null when the registry does not know the resident. */
/** Who acted: a user's display name and role, an API token, or Anju itself. */
export interface Person {
  name: string;
  role: 'admin' | 'staff' | 'family' | 'token' | 'system';
}

export interface AlertView extends Alert {
  residentName: string | null;
  homeLabel: string | null;
  /** By the ids in acknowledgedBy and resolvedBy. */
  people: Record<string, Person>;
}

export interface AlertDetail {
  alert: AlertView;
  history: AuditEntry[];
  deliveries: Delivery[];
  /** Who each actor of the history is. */
  people: Record<string, Person>;
}

export type HomeStatus = 'ok' | 'alert' | 'device_offline' | 'no_recent_activity';

export interface HomeView {
  homeId: string;
  communityId: string;
  community: string;
  compound: string;
  building: string;
  home: string;
  residents: { id: string; name: string }[];
  status: HomeStatus;
  openAlerts: number;
  lastActivityAt: number | null;
}

export interface DeviceView {
  id: string;
  kind: Device['kind'];
  residentId: string | null;
  homeId: string;
  room: Device['room'];
  online: boolean;
  lastSeen: number | null;
  revoked: boolean;
  battery: number | null;
  firmware: string | null;
  rssi: number | null;
  refused: Record<string, number>;
}

export interface ResidentPageData {
  resident: Resident;
  contacts: Contact[];
  devices: DeviceView[];
  alerts: AlertView[];
}

export interface Reading {
  ts: number;
  value: number | boolean | string;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  language?: Language;
  communities?: string[];
  residents?: string[];
}

export type Channel = 'app' | 'email' | 'sms';

export interface Preferences {
  channels: Channel[];
  language: Language;
}
