// The escalation channel of the console and the family page: alerting names whose screen a reminder is
// for (the recipient's in-app address), and this channel sends it to that audience's room.
import type { Server } from 'socket.io';
import { appAudience, type Alert } from '../../alerting/alerts/index.ts';
import {
  errorText,
  type Channel,
  type DeliveryResult,
  type Notification,
} from '../../alerting/channels/channel.ts';
import { ALERT_EVENTS, type AlertNotifyPayload } from './events.ts';
import { audienceRoom } from './rooms.ts';

export class SocketIoChannel implements Channel {
  readonly name = 'socketio';
  private readonly view: (alert: Alert) => Alert | Promise<Alert>;
  private readonly now: () => number;

  constructor(
    private readonly io: Server,
    options: {
      /** The alert as the console shows it everywhere else (the dashboard's view, with names). */
      view?: (alert: Alert) => Alert | Promise<Alert>;
      now?: () => number;
    } = {},
  ) {
    this.view = options.view ?? ((alert) => alert);
    this.now = options.now ?? Date.now;
  }

  async send(n: Notification): Promise<DeliveryResult> {
    try {
      const audience = appAudience(n.recipient.address);
      if (!audience) return this.failed(`not an in-app address: ${n.recipient.address}`);
      const payload: AlertNotifyPayload = {
        alert: await this.view(n.alert),
        resident: n.resident,
        step: n.step,
        round: n.round,
        recipient: { kind: n.recipient.kind, id: n.recipient.id, name: n.recipient.name },
      };
      // Socket.IO has no delivery receipt for a room broadcast: "ok" means handed to the sockets.
      this.io.to(audienceRoom(audience)).emit(ALERT_EVENTS.notify, payload);
      return { attempts: [{ at: this.now(), ok: true, error: null }] };
    } catch (err) {
      return this.failed(errorText(err));
    }
  }

  private failed(error: string): DeliveryResult {
    return { attempts: [{ at: this.now(), ok: false, error }] };
  }
}
