// What the gateway needs from the rest of Anju, as small interfaces: the registry implements
// DeviceDirectory, ingest implements ReadingSink. The gateway imports no implementation.
import type { DeviceKind, UplinkMessage } from '../firmware-protocol/index.ts';

export interface GatewayDevice {
  id: string;
  kind: DeviceKind;
  secretHash: string;
  revoked: boolean;
  residentId: string | null;
  homeId: string | null;
}

export interface DeviceDirectory {
  findDevice(id: string): GatewayDevice | undefined;
  /** Every revoked device (devices are revoked, never deleted): the gateway cuts their connections. */
  revokedIds(): string[];
  /** Presence as the gateway sees it; `at` is Unix ms. */
  markOnline(id: string, at: number): void;
  markOffline(id: string, at: number): void;
  markSeen(id: string, at: number): void;
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

/**
 * Receives accepted readings. For QoS 1 the gateway sends the PUBACK only after the returned promise
 * resolves, so an implementation that resolves after a durable write gives at-least-once delivery.
 */
export interface ReadingSink {
  accept(reading: AcceptedReading): Promise<void>;
}
