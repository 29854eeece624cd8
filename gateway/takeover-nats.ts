// The gateway's takeover announcements over NATS core (fire-and-forget: a lost announcement leaves one
// stale connection until its keep-alive runs out, which is what a single broker does with a half-open
// TCP connection anyway).
import type { NatsConnection } from 'nats';
import type { Takeover, TakeoverBus } from './takeover.ts';

const SUBJECT = 'anju.gateway.takeover';

export function natsTakeoverBus(nc: NatsConnection, subject = SUBJECT): TakeoverBus {
  return {
    announce(takeover) {
      nc.publish(subject, JSON.stringify(takeover));
    },
    subscribe(handler) {
      const subscription = nc.subscribe(subject, {
        callback: (err, message) => {
          if (err) return;
          try {
            handler(JSON.parse(message.string()) as Takeover);
          } catch {
            // A malformed announcement from a foreign publisher changes nothing.
          }
        },
      });
      return () => subscription.unsubscribe();
    },
  };
}
