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
  twoFactor: boolean;
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
  /** Who each delivery's recipient (`console:…`, `contact:…`, `webhook:…`) is. */
  recipients: Record<string, RecipientView>;
}

export interface RecipientView {
  name: string;
  role: 'console' | 'webhook' | Contact['relation'];
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
  /** The rule engine's: devices it holds offline, last sign of life, last report of any device. */
  offlineDevices: string[];
  lastActivityAt: number | null;
  lastReportAt: number | null;
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

export interface HomeSeries {
  measurement: string;
  type: 'numeric' | 'state';
  unit: string;
  readings: Reading[];
}

/** GET /api/v1/residents/:id/devices/readings */
export interface HomeReadings {
  from: number;
  to: number;
  every: number;
  devices: {
    id: string;
    kind: Device['kind'];
    room: Device['room'];
    wornBy: string | null;
    series: HomeSeries[];
  }[];
}

export interface EmergencyCardFields {
  phone: string | null;
  medications: string | null;
  allergies: string | null;
  doctorName: string | null;
  doctorPhone: string | null;
  keySafe: string | null;
  keyHolderName: string | null;
  keyHolderPhone: string | null;
  notes: string | null;
}

/** GET /api/v1/residents/:id/emergency-card */
export interface EmergencyCardData {
  card: EmergencyCardFields & { hasPhoto: boolean; updatedAt: number | null; updatedBy: string | null };
  resident: { id: string; name: string };
  contacts: { name: string; relation: Contact['relation']; phone: string | null }[];
  access: { at: number; actor: string }[];
  people: Record<string, Person>;
}

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: number;
  lastUsedAt: number;
  address: string;
  userAgent: string | null;
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
  disabledAt?: number | null;
  twoFactor?: boolean;
}

export type Channel = 'app' | 'email' | 'sms' | 'phone';

export interface QuietHours {
  from: string;
  to: string;
  timeZone: string;
}

/** A person's own channels: a contact's, and the work apps where they gave their user id. */
export type NotifyChannel = Channel | 'wecom' | 'dingtalk';

export interface Preferences {
  /** In the order they want to be tried. */
  channels: NotifyChannel[];
  language: Language;
  quietHours?: QuietHours | null;
  wecomUserId?: string | null;
  dingtalkUserId?: string | null;
}
