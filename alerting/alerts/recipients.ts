// Who an escalation step reaches: the community console, the resident's contacts of the named relations
// (each on every channel they chose), and the named webhooks.
import type { Contact } from '../../registry/index.ts';
import { communityRoom, residentRoom } from '../channels/socketio.ts';
import type { AlertResident } from './directory.ts';
import type { EscalationStep } from './policy.ts';
import type { Alert, ChannelName, Recipient } from './schemas.ts';

const CONTACT_CHANNEL: Record<Contact['channels'][number], ChannelName> = {
  app: 'socketio',
  email: 'email',
  sms: 'sms',
  phone: 'phone',
};

function contactAddress(contact: Contact, channel: Contact['channels'][number]): string | null {
  switch (channel) {
    case 'app':
      return residentRoom(contact.residentId); // the family page of this resident
    case 'email':
      return contact.email;
    case 'sms':
    case 'phone':
      return contact.phone;
  }
}

export function recipientsOf(
  step: EscalationStep,
  alert: Alert,
  resident: AlertResident | undefined,
): Recipient[] {
  const language = resident?.language ?? 'zh-CN';
  const out: Recipient[] = [];
  if (step.notify.includes('console') && alert.communityId !== null) {
    const id = alert.communityId;
    out.push({
      kind: 'console',
      id,
      name: 'console',
      channel: 'socketio',
      address: communityRoom(id),
      language,
    });
  }
  for (const contact of resident?.contacts ?? []) {
    if (!step.notify.includes(contact.relation)) continue;
    if (step.maxContactOrder !== undefined && contact.escalationOrder > step.maxContactOrder) continue;
    for (const channel of contact.channels) {
      const address = contactAddress(contact, channel);
      if (address === null) continue;
      out.push({
        kind: 'contact',
        id: contact.id,
        name: contact.name,
        channel: CONTACT_CHANNEL[channel],
        address,
        language,
      });
    }
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
): Recipient[] {
  const seen = new Set<string>();
  return steps
    .flatMap((step) => recipientsOf(step, alert, resident))
    .filter((r) => {
      const key = `${recipientKey(r)}|${r.channel}|${r.address}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
