// The connections of each address that have not sent CONNECT yet. A device sends CONNECT as soon as its
// connection opens; a socket that stays silent holds a slot for nothing until the CONNECT timeout. Two
// rules keep one client that reopens silent sockets behind a NAT from locking out the real devices that
// share its address:
// - an address holds at most `maxPerAddress` silent connections that have had `graceMs` to speak; past
//   that the oldest are closed. The grace keeps a burst of devices reconnecting at once (after a power
//   cut) from pushing out each other before their CONNECTs are read;
// - an address at its connection limit makes room for a newcomer by closing its oldest silent connection,
//   whatever its age: a connection that has said nothing yields to one that may.
// A connection leaves the count when its CONNECT arrives, so a device whose secret is being checked is
// never pushed out.
import type { Duplex } from 'node:stream';

export class SilentConnections {
  // Insertion order is arrival order: the first entry is the oldest.
  private readonly byAddress = new Map<string, Map<Duplex, number>>();
  private readonly addressOf = new WeakMap<Duplex, string>();

  constructor(
    private readonly maxPerAddress: number,
    private readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(stream: Duplex, address: string): void {
    let silent = this.byAddress.get(address);
    if (!silent) {
      silent = new Map();
      this.byAddress.set(address, silent);
    }
    silent.set(stream, this.now());
    this.addressOf.set(stream, address);
  }

  /** Silent connections of `address` to close so that it keeps within its bound (oldest first). */
  pastBound(address: string): Duplex[] {
    const silent = this.byAddress.get(address);
    if (!silent || silent.size < this.maxPerAddress) return [];
    const over: Duplex[] = [];
    const spokeUntil = this.now() - this.graceMs;
    let excess = silent.size - this.maxPerAddress + 1; // room for the newcomer
    for (const [stream, since] of silent) {
      if (excess === 0 || since > spokeUntil) break;
      over.push(stream);
      excess -= 1;
    }
    for (const stream of over) this.forget(stream);
    return over;
  }

  /** The oldest silent connection of `address`, taken out of the count, to make room for a newcomer. */
  takeOldest(address: string): Duplex | undefined {
    const oldest = this.byAddress.get(address)?.keys().next().value;
    if (oldest) this.forget(oldest);
    return oldest;
  }

  /** The connection sent CONNECT, or closed: it no longer counts. */
  forget(stream: Duplex): void {
    const address = this.addressOf.get(stream);
    if (address === undefined) return;
    this.addressOf.delete(stream);
    const silent = this.byAddress.get(address);
    silent?.delete(stream);
    if (silent?.size === 0) this.byAddress.delete(address);
  }

  count(address: string): number {
    return this.byAddress.get(address)?.size ?? 0;
  }
}
