// What a run did, counted as it happens: for the progress line on stderr and the summary at the end.
import type { SimOutput } from './output.ts';

export type Counts = Record<string, number>;

/** CONNACK return codes (MQTT 3.1.1 §3.2.2.3) by the name the gateway logs them under. */
export const CONNACK_REASONS: Record<number, string> = {
  1: 'unacceptable_protocol',
  2: 'identifier_rejected',
  3: 'server_unavailable',
  4: 'bad_credentials',
  5: 'not_authorized',
};

export class SimStats {
  sent = 0;
  acked = 0;
  /** Publishes that failed because the connection dropped before the PUBACK; each is sent again. */
  resent = 0;
  duplicatesSent = 0;
  connects = 0;
  reconnects = 0;
  /** Connection attempts that got no CONNACK at all (socket refused, reset or timed out). */
  connectErrors = 0;
  readonly byChannel: Counts = {};
  readonly refused: Counts = {};
  readonly expectedRefused: Counts = {};
  readonly connectRefused: Counts = {};
  private readonly wallStart = Date.now();

  static add(counts: Counts, key: string, n = 1): void {
    counts[key] = (counts[key] ?? 0) + n;
  }

  /** A message leaving a device for the first time. */
  countSent(
    msg: Extract<SimOutput, { type: 'publish' }> | { channel: string; dup?: boolean; expect?: string },
  ): void {
    this.sent += 1;
    SimStats.add(this.byChannel, msg.channel);
    if (msg.dup) this.duplicatesSent += 1;
    if (msg.expect) SimStats.add(this.expectedRefused, msg.expect);
  }

  refusedTotal(): number {
    return Object.values(this.refused).reduce((a, b) => a + b, 0);
  }

  wallSeconds(): number {
    return (Date.now() - this.wallStart) / 1000;
  }
}

function counts(c: Counts): string {
  const entries = Object.entries(c);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(' ') : '0';
}

/** One line for people watching a run: simulated time, messages and trouble so far. */
export function progressLine(
  stats: SimStats,
  simTime: number,
  extra: { queued?: number; live: boolean },
): string {
  const parts = [`sim ${new Date(simTime).toISOString().slice(0, 19)}Z`, `sent ${stats.sent}`];
  if (extra.live) {
    parts.push(
      `acked ${stats.acked}`,
      `refused ${counts(stats.refused)}`,
      `connect-refused ${counts(stats.connectRefused)}`,
    );
    parts.push(`reconnects ${stats.reconnects}`);
    if (extra.queued) parts.push(`queued ${extra.queued}`);
  }
  return parts.join('  ');
}
