// Shared by the alert tests: signals, a settable clock and a channel that keeps what it was given.
import type { AlertSignal } from '../signals.ts';
import type { Channel, DeliveryResult, Notification } from '../channels/channel.ts';
import type { Contact } from '../../registry/index.ts';
import type { ResidentDirectory } from './directory.ts';
import { parseEscalationPolicies } from './policy.ts';
import type { ChannelName } from './schemas.ts';

export const T0 = Date.UTC(2025, 0, 15, 2, 0, 0); // 10:00 in Jiaxing

export function settableClock(start = T0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (next) => void (t = next) };
}

export function raise(overrides: Partial<AlertSignal> = {}): AlertSignal {
  return {
    action: 'raise',
    residentId: 'rs_1',
    ruleId: 'gas.methane',
    severity: 'alarm',
    at: T0,
    deviceId: 'gas-1',
    summary: 'Methane at 27 % LEL',
    evidence: { lel: 27 },
    autoClear: true,
    ...overrides,
  };
}

export function clear(overrides: Partial<AlertSignal> = {}): AlertSignal {
  return raise({
    action: 'clear',
    summary: 'Methane back under 10 % LEL',
    evidence: { lel: 3 },
    ...overrides,
  });
}

/** A contact of rs_1: family, first to be told, with no phone, e-mail or channel that `fields` do not give. */
export function testContact(fields: Pick<Contact, 'id' | 'name'> & Partial<Contact>): Contact {
  return {
    residentId: 'rs_1',
    relation: 'family',
    phone: null,
    email: null,
    channels: [],
    escalationOrder: 1,
    createdAt: T0,
    ...fields,
  };
}

/** Every resident is 张桂英 of cm_a, living at `home`, with `contacts` (in escalation order). */
export function residentDirectory(contacts: Contact[], home = ''): ResidentDirectory {
  return {
    resident: async (id) => ({ id, name: '张桂英', communityId: 'cm_a', home, language: 'zh-CN', contacts }),
  };
}

/** A channel that delivers into a list, for tests of who is told when. */
export class RecordingChannel implements Channel {
  readonly sent: Notification[] = [];

  constructor(readonly name: ChannelName) {}

  async send(n: Notification): Promise<DeliveryResult> {
    this.sent.push(n);
    return { attempts: [{ at: n.at, ok: true, error: null }] };
  }
}

/** rs_3 lives in cm_b, everyone else in cm_a; each has a daughter reached at `<residentId>@example.org`. */
export const EMAIL_DAUGHTER_DIRECTORY: ResidentDirectory = {
  async resident(id) {
    const daughter: Contact = {
      id: `ct_${id}`,
      residentId: id,
      name: '李娜',
      relation: 'family',
      phone: null,
      email: `${id}@example.org`,
      channels: ['email'],
      escalationOrder: 1,
    } as Contact;
    return {
      id,
      name: `resident ${id}`,
      communityId: id === 'rs_3' ? 'cm_b' : 'cm_a',
      home: '',
      language: 'zh-CN',
      contacts: [daughter],
    };
  },
};

/** Two steps to the daughter by e-mail, at once and a minute later, and no reminders. */
export const TWO_EMAILS = parseEscalationPolicies(`
  default:
    steps:
      - { afterMin: 0, notify: [family] }
      - { afterMin: 1, notify: [family] }
    renotifyEveryMin: null
`);
