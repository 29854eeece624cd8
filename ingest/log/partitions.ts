// Which log partition a reading belongs to: every reading of one home in one partition, so the rule worker
// that owns it sees a resident's wearable and the home's motion, door and gas sensors in order (rules
// about a resident read both). Partitioning by resident would split them: the home's fixed devices carry
// no resident. A device without a home goes by itself. FNV-1a: stable across processes and versions.
import type { AcceptedReading } from '../../gateway/ports.ts';

export function partitionKey(reading: Pick<AcceptedReading, 'homeId' | 'deviceId'>): string {
  if (reading.homeId) return `h:${reading.homeId}`;
  return `d:${reading.deviceId}`;
}

export function hashKey(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export function partitionOf(
  reading: Pick<AcceptedReading, 'homeId' | 'deviceId'>,
  partitions: number,
): number {
  return hashKey(partitionKey(reading)) % partitions;
}
