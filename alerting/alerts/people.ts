// People, not records: a resident's contact may be a person with an account, who chose how to be told
// (their channels, in their order, and their language) and when not to be woken for less than an alarm
// (quiet hours, in their own time zone). This wraps the registry's directory with those choices; the
// choices come from whoever keeps accounts (the composition passes them in), so alerting depends on
// neither the accounts' tables nor the dashboard.
import { severityRank, type Alert } from './schemas.ts';
import type { AlertContact, PersonChannel, ResidentDirectory } from './directory.ts';

export interface QuietHoursChoice {
  /** HH:MM local time; `from` later than `to` spans midnight. */
  from: string;
  to: string;
  timeZone: string;
}

export interface PersonChoice {
  channels: readonly PersonChannel[];
  /** Their user ids in the community's work apps; a work app chosen without one cannot be used. */
  wecomUserId?: string | null;
  dingtalkUserId?: string | null;
  language: 'zh-CN' | 'en';
  quietHours: QuietHoursChoice | null;
  /** A disabled account's choices no longer count: the contact record's own channels do. */
  disabled: boolean;
}

export interface PeopleChoices {
  /** The choices of the people behind these contact ids; contacts nobody stands for are left out. */
  choices(contactIds: readonly string[]): Promise<ReadonlyMap<string, PersonChoice>>;
}

/** Channels the person has an address for: a chosen channel without one cannot be used. */
function reachable(contact: AlertContact, choice: PersonChoice, channel: PersonChannel): boolean {
  if (channel === 'email') return contact.email !== null;
  if (channel === 'sms' || channel === 'phone') return contact.phone !== null;
  if (channel === 'wecom') return Boolean(choice.wecomUserId);
  if (channel === 'dingtalk') return Boolean(choice.dingtalkUserId);
  return true;
}

/** The contact as the person behind it wants to be told. */
export function applyChoice(contact: AlertContact, choice: PersonChoice | undefined): AlertContact {
  if (!choice || choice.disabled) return contact;
  return {
    ...contact,
    channels: [...new Set(choice.channels)].filter((c) => reachable(contact, choice, c)),
    wecomUserId: choice.wecomUserId ?? null,
    dingtalkUserId: choice.dingtalkUserId ?? null,
    language: choice.language,
    quietHours: choice.quietHours,
  };
}

/** The directory with each contact's person's choices applied. */
export function withPeople(directory: ResidentDirectory, people: PeopleChoices): ResidentDirectory {
  return {
    communityOf: (residentId) => directory.communityOf?.(residentId),
    async resident(residentId) {
      const resident = await directory.resident(residentId);
      if (!resident || resident.contacts.length === 0) return resident;
      const choices = await people.choices(resident.contacts.map((c) => c.id));
      return { ...resident, contacts: resident.contacts.map((c) => applyChoice(c, choices.get(c.id))) };
    },
  };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** Whether `at` falls in the quiet hours, read on the clock of their time zone. */
export function inQuietHours(at: number, quiet: QuietHoursChoice): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: quiet.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value);
  const now = hour * 60 + minute;
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/**
 * Whether a person is left to the family page only at `at`: inside their quiet hours, for an alert below
 * alarm. Alarm and critical alerts always reach them.
 */
export function heldBackByQuietHours(
  contact: AlertContact,
  alert: Pick<Alert, 'severity'>,
  at: number,
): boolean {
  if (!contact.quietHours || severityRank(alert.severity) >= severityRank('alarm')) return false;
  return inQuietHours(at, contact.quietHours);
}
