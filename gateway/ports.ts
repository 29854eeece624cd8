// What the gateway needs from the rest of Anju, as small interfaces: the registry implements
// DeviceDirectory, ingest implements ReadingSink. The gateway imports no implementation.
import type { AcceptedReading, GatewayDevice } from '../firmware-protocol/accepted.ts';

export type { AcceptedReading, GatewayDevice } from '../firmware-protocol/accepted.ts';

export interface DeviceDirectory {
  /** Read on every connect, so that a revocation made by another process is seen at once. */
  findDevice(id: string): Promise<GatewayDevice | undefined>;
  /** Every revoked device (devices are revoked, never deleted): the gateway cuts their connections. */
  revokedIds(): Promise<string[]>;
  /**
   * Presence as the gateway sees it; `at` is Unix ms. Fire-and-forget: the directory buffers what it
   * cannot write yet and reports failures itself, and must never throw.
   */
  markOnline(id: string, at: number): void;
  markOffline(id: string, at: number): void;
  markSeen(id: string, at: number): void;
}

/**
 * Receives accepted readings. For QoS 1 the gateway sends the PUBACK only after the returned promise
 * resolves, so an implementation that resolves after a durable write gives at-least-once delivery.
 */
export interface ReadingSink {
  accept(reading: AcceptedReading): Promise<void>;
}
