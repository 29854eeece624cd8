// Who an escalation step reaches: the community console, the resident's contacts of the named relations,
// and the named webhooks. A contact's family page (app) is always told; of the channels that reach the
// person (e-mail, SMS, voice), with failover only the first they chose is tried and the others wait for
// it to fail (escalation.ts); without, every one is tried at once.
import { appAddress } from './app-address.ts';
import type { AlertContact, AlertResident, PersonChannel } from './directory.ts';
import { heldBackByQuietHours } from './people.ts';
import type { EscalationStep } from './policy.ts';
import type { Alert, ChannelName, Recipient } from './schemas.ts';

const CONTACT_CHANNEL: Record<PersonChannel, ChannelName> = {
  app: 'socketio',
  email: 'email',
  sms: 'sms',
  phone: 'voice',
  wecom: 'wecom',
  dingtalk: 'dingtalk',
};

function contactAddress(contact: AlertContact, channel: PersonChannel): string | null {
  switch (channel) {
    case 'app':
      return appAddress({ kind: 'resident', id: contact.residentId }); // the family page of this resident
    case 'email':
      return contact.email;
    case 'sms':
    case 'phone':
      return contact.phone;
    case 'wecom':
      return contact.wecomUserId ?? null;
    case 'dingtalk':
      return contact.dingtalkUserId ?? null;
  }
}

/** When a notification is decided: quiet hours hold back less than an alarm then. */
export interface Moment {
  alert: Pick<Alert, 'severity'>;
  at: number;
}

/**
 * Every channel of the contact that has an address, in the contact's (or their person's) order; inside
 * their quiet hours at `moment`, for less than an alarm, only the family page.
 */
export function contactRecipients(
  contact: AlertContact,
  language: Recipient['language'],
  moment?: Moment,
): Recipient[] {
  const out: Recipient[] = [];
  const held = moment !== undefined && heldBackByQuietHours(contact, moment.alert, moment.at);
  for (const channel of contact.channels) {
    if (held && channel !== 'app') continue;
    const address = contactAddress(contact, channel);
    if (address === null) continue;
    out.push({
      kind: 'contact',
      id: contact.id,
      name: contact.name,
      channel: CONTACT_CHANNEL[channel],
      address,
      language: contact.language ?? language,
    });
  }
  return out;
}

/** Channels that reach the person, as opposed to the family page, which only shows what happened. */
export function reachesPerson(r: Recipient): boolean {
  return r.channel !== 'socketio';
}

export function recipientsOf(
  step: EscalationStep,
  alert: Alert,
  resident: AlertResident | undefined,
  failover = false,
  at?: number,
): Recipient[] {
  const language = resident?.language ?? 'zh-CN';
  const moment = at === undefined ? undefined : { alert, at };
  const out: Recipient[] = [];
  if (step.notify.includes('console') && alert.communityId !== null) {
    const id = alert.communityId;
    out.push({
      kind: 'console',
      id,
      name: 'console',
      channel: 'socketio',
      address: appAddress({ kind: 'community', id }),
      language,
    });
  }
  for (const contact of resident?.contacts ?? []) {
    if (!step.notify.includes(contact.relation)) continue;
    if (step.maxContactOrder !== undefined && contact.escalationOrder > step.maxContactOrder) continue;
    const all = contactRecipients(contact, language, moment);
    const first = all.find(reachesPerson);
    out.push(...(failover ? all.filter((r) => !reachesPerson(r) || r === first) : all));
  }
  for (const id of step.webhooks) {
    out.push({ kind: 'webhook', id, name: id, channel: 'webhook', address: id, language });
  }
  return out;
}

export function recipientKey(r: Recipient): string {
  return `${r.kind}:${r.id}`;
}

/** Everyone the given steps reach, each (recipient, channel) once: the circle a reminder goes to. */
export function circleOf(
  steps: readonly EscalationStep[],
  alert: Alert,
  resident: AlertResident | undefined,
  failover = false,
  at?: number,
): Recipient[] {
  const seen = new Set<string>();
  return steps
    .flatMap((step) => recipientsOf(step, alert, resident, failover, at))
    .filter((r) => {
      const key = `${recipientKey(r)}|${r.channel}|${r.address}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
