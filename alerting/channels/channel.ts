// What every notification channel implements. The escalator decides who is told; a channel only carries
// one notification to one recipient and reports each attempt, which the escalator records.
import type { Alert, ChannelName, DeliveryReceipt, Recipient } from '../alerts/schemas.ts';

export interface Notification {
  alert: Alert;
  /** From the registry; null when the resident is unknown to it. */
  resident: { name: string; home: string } | null;
  /** The escalation step, and 0 for the step itself or 1, 2, ... for each reminder. */
  step: number;
  round: number;
  recipient: Recipient;
  /** When escalation decided to send it, Unix ms. */
  at: number;
  /** The recipient's one-tap link to this alert ("I'm on it"), where links are configured. */
  link?: string;
}

export interface DeliveryAttempt {
  at: number;
  ok: boolean;
  error: string | null;
  /** What an outside provider (SMS, voice) said about this attempt: its ids and status. */
  receipt?: DeliveryReceipt | null;
  /** False when trying again cannot help (a wrong number, an unapproved template): fail over at once. */
  retryable?: boolean;
}

export interface DeliveryResult {
  /** Every attempt in order; the delivery succeeded when the last one is ok. */
  attempts: DeliveryAttempt[];
}

export interface Channel {
  readonly name: ChannelName;
  /**
   * The longest one send can take with its retries and waits, where that may pass the escalator's claim
   * time (a call followed until answered): its outbox item is claimed for at least this long.
   */
  readonly longestSendMs?: number;
  send(notification: Notification): Promise<DeliveryResult>;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
