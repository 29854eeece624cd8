// Alert records, audit entries and deliveries as the rest of Anju sees them (dashboard, Socket.IO,
// webhooks). Each zod schema is the type and the documentation of one record.
import { z } from 'zod';
import { Severity, SEVERITIES } from '../signals.ts';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export const AlertState = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertState>;

export const OUTCOMES = ['emergency', 'false_alarm', 'device_fault', 'other'] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** Who did something: a user id, or 'system' for what Anju did by itself. */
export const Actor = z.string().trim().min(1).max(100);
export const SYSTEM_ACTOR = 'system';

export const Alert = z.object({
  id: z.string(),
  residentId: z.string(),
  /** From the registry when the alert opened; null when the resident was unknown to it. */
  communityId: z.string().nullable(),
  ruleId: z.string(),
  /** The highest severity raised while the alert was open: it never falls silently. */
  severity: Severity,
  state: AlertState,
  /** Event time of the first raise, Unix ms. */
  openedAt: z.number().int(),
  updatedAt: z.number().int(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.number().int().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.number().int().nullable(),
  outcome: Outcome.nullable(),
  /** The latest note anyone gave (every note is kept in the audit trail). */
  note: z.string().nullable(),
  summary: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  deviceId: z.string().nullable(),
  /** The last escalation step that was sent; null before the first. */
  escalationStep: z.number().int().nullable(),
  /** True only while every raise allowed the alert to close itself when its condition clears. */
  autoClear: z.boolean(),
  /** How many raises this alert absorbed after the first (one incident, one alert). */
  repeatCount: z.number().int(),
});
export type Alert = z.infer<typeof Alert>;

export const AUDIT_ACTIONS = [
  'opened',
  'repeated',
  'severity_raised',
  'condition_cleared',
  'auto_resolved',
  'acknowledged',
  'resolved',
  'note',
  'escalated',
  'renotified',
  // An outside provider (SMS, voice) took a message, with its ids; or a channel failed and escalation
  // moved on to the person's next channel or the next person (details.next).
  'delivered',
  'delivery_failed',
] as const;
export const AuditAction = z.enum(AUDIT_ACTIONS);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditEntry = z.object({
  id: z.number().int(),
  alertId: z.string(),
  at: z.number().int(),
  actor: z.string(),
  action: AuditAction,
  details: z.record(z.string(), z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AlertFilter = z.object({
  residentIds: z.array(z.string()).optional(),
  communityIds: z.array(z.string()).optional(),
  /** 'active' is open or acknowledged: everything not yet resolved. */
  state: z.enum([...ALERT_STATES, 'active']).optional(),
  /** Only alerts updated at or after this time, Unix ms. */
  since: z.number().int().optional(),
  severity: Severity.optional(),
  /**
   * A search, resolved by the caller: alerts of these residents (whose names or homes matched, from the
   * registry), or from a device whose id contains this text, ignoring case.
   */
  matching: z.object({ residentIds: z.array(z.string()), deviceId: z.string().min(1).max(100) }).optional(),
  /** The last alert of the previous page: continue with those listed after it. */
  after: z.object({ updatedAt: z.number().int(), id: z.string() }).optional(),
  limit: z.number().int().min(1).max(5000).default(100),
});
export type AlertFilter = z.input<typeof AlertFilter>;

// 'phone' is what older records call a voice call; new ones say 'voice'.
export const CHANNEL_NAMES = [
  'socketio',
  'webhook',
  'email',
  'sms',
  'voice',
  'phone',
  'wecom',
  'dingtalk',
] as const;
export const ChannelName = z.enum(CHANNEL_NAMES);
export type ChannelName = z.infer<typeof ChannelName>;

export const Recipient = z.object({
  /** console: a community's staff console; contact: a registry contact; webhook: a configured endpoint. */
  kind: z.enum(['console', 'contact', 'webhook']),
  /** Community id, contact id or webhook id. */
  id: z.string(),
  name: z.string(),
  channel: ChannelName,
  /** In-app audience (app-address.ts), e-mail address, phone number or webhook id, as the channel needs it. */
  address: z.string(),
  language: z.enum(['zh-CN', 'en']),
});
export type Recipient = z.infer<typeof Recipient>;

/** What an SMS or voice provider answered: its request id, its message or call id, its status code. */
export const DeliveryReceipt = z.object({
  provider: z.enum(['aliyun', 'tencent', 'wecom', 'dingtalk']),
  requestId: z.string().nullable(),
  messageId: z.string().nullable(),
  status: z.string(),
  /** For a voice call whose outcome was read back: whether someone answered it. */
  answered: z.boolean().optional(),
});
export type DeliveryReceipt = z.infer<typeof DeliveryReceipt>;

export const Delivery = z.object({
  id: z.number().int(),
  alertId: z.string(),
  step: z.number().int(),
  /** 0 for the step itself, 1, 2, ... for each re-notification of the widened circle. */
  round: z.number().int(),
  channel: ChannelName,
  /** `<kind>:<id>` of the recipient. */
  recipient: z.string(),
  address: z.string(),
  attempt: z.number().int(),
  at: z.number().int(),
  ok: z.boolean(),
  error: z.string().nullable(),
  /** Set for deliveries through an outside provider. */
  receipt: DeliveryReceipt.nullable(),
});
export type Delivery = z.infer<typeof Delivery>;

const RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Refusals of the alert service; `code` maps to an HTTP status in the dashboard. */
export class AlertError extends Error {
  override readonly name = 'AlertError';

  constructor(
    /** changed_meanwhile: another request (maybe another process) changed the alert's state first. */
    readonly code: 'not_found' | 'conflict' | 'changed_meanwhile' | 'invalid_input',
    message: string,
  ) {
    super(message);
  }
}

/** One change of one alert, with the audit entry that records it; what the console is pushed. */
export interface AlertChange {
  /** 'new' when the alert opened, 'update' for every later change. */
  type: 'new' | 'update';
  alert: Alert;
  audit: AuditEntry;
}

/**
 * The resident id of alerts about Anju itself (storage almost full or failing): no resident, no community;
 * every staff console and admin sees them (room `alerts:system`).
 */
export const SYSTEM_RESIDENT = 'system';
