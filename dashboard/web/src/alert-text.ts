// How alerts read in the UI: rules by name in the current language (the server's English summary when a
// rule is new to this catalogue), and the order the console lists them in.
import { dateTime } from './format.ts';
import { t, tMaybe } from './i18n/index.ts';
import type { AlertView, AuditEntry, Person, RecipientView, Severity } from './types.ts';

const RANK: Record<Severity, number> = { info: 0, warning: 1, alarm: 2, critical: 3 };

export function ruleName(a: Pick<AlertView, 'ruleId' | 'summary'>): string {
  return tMaybe(`rule.${a.ruleId}`) ?? a.summary;
}

/** A person by name and role ("刘社工 · 工作人员"); the raw id only when nobody by it is known. */
export function actorName(actor: string, people: Record<string, Person> = {}): string {
  if (actor === 'system') return t('actor.system');
  const person = people[actor];
  if (!person) return actor;
  return `${person.name} · ${t(`actor.${person.role}`)}`;
}

/** A delivery's recipient by name and relation ("王磊 · 家属"); the raw key only when nobody by it is known. */
export function recipientName(key: string, recipients: Record<string, RecipientView> = {}): string {
  const r = recipients[key];
  if (!r) return key;
  const role =
    r.role === 'console' || r.role === 'webhook' ? t(`recipient.${r.role}`) : t(`relation.${r.role}`);
  return `${r.name} · ${role}`;
}

/** Escalation steps count from 0 in the records; people count from 1. */
export function stepText(step: number): string {
  return t('alert.step', { step: step + 1 });
}

export function auditText(entry: AuditEntry): string {
  const step = typeof entry.details.step === 'number' ? entry.details.step + 1 : '';
  // Delivery entries name whom and how (details.name, details.channel).
  const recipient = typeof entry.details.name === 'string' ? entry.details.name : '';
  const channel = typeof entry.details.channel === 'string' ? entry.details.channel : '';
  return tMaybe(`audit.${entry.action}`, { step, recipient, channel }) ?? entry.action;
}

/** An evidence key as a label in the current language; a key new to the catalogue as it is. */
export function evidenceLabel(key: string): string {
  return tMaybe(`evidence.${key}`) ?? key;
}

/** Evidence as people read it: times as dates, yes and no, known reasons translated, objects as JSON. */
export function evidenceText(key: string, value: unknown): string {
  if (typeof value === 'number' && /At$|^ts$|Ts$|^lastActivity$/.test(key) && value > 1e12)
    return dateTime(value);
  if (typeof value === 'boolean') return t(`value.${value}`);
  if (typeof value === 'string') return tMaybe(`evidence.${key}.${value}`) ?? value;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Most severe first; among equals the one waiting longest first, or the latest closed for resolved ones. */
export function consoleOrder(a: AlertView, b: AlertView): number {
  const bySeverity = RANK[b.severity] - RANK[a.severity];
  if (bySeverity !== 0) return bySeverity;
  if (a.state === 'resolved' && b.state === 'resolved') return (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0);
  return a.openedAt - b.openedAt;
}
