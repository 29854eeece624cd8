// Domain types every layer shares: a device's identity as the gateway checks it, and an accepted
// reading as ingest and alerting receive it. Here, not in gateway/, so that imports point one way.
import type { DeviceKind, UplinkMessage } from './index.ts';

export interface GatewayDevice {
  id: string;
  kind: DeviceKind;
  secretHash: string;
  revoked: boolean;
  residentId: string | null;
  homeId: string | null;
}

/** One accepted uplink message, validated and attributed to its device. */
export interface AcceptedReading {
  deviceId: string;
  kind: DeviceKind;
  residentId: string | null;
  homeId: string | null;
  /** Arrival time at the gateway, Unix ms; the device's own time is in `message.body.ts`. */
  receivedAt: number;
  qos: 0 | 1 | 2;
  message: UplinkMessage;
}
