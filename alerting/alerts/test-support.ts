// Shared by the alert tests: signals, a settable clock and a channel that keeps what it was given.
import type { AlertSignal } from '../signals.ts';
import type { Channel, DeliveryResult, Notification } from '../channels/channel.ts';
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

/** A channel that delivers into a list, for tests of who is told when. */
export class RecordingChannel implements Channel {
  readonly sent: Notification[] = [];

  constructor(readonly name: ChannelName) {}

  async send(n: Notification): Promise<DeliveryResult> {
    this.sent.push(n);
    return { attempts: [{ at: n.at, ok: true, error: null }] };
  }
}
