// Remembers, per device, a SHA-256 of the secret that last passed the scrypt check, tied to the stored
// hash it passed against. A reconnect storm (every device at once after a restart or a network blip)
// then costs a hash each instead of a scrypt each; a changed or revoked secret changes the stored hash
// and so misses the cache.
import { createHash, timingSafeEqual } from 'node:crypto';

export class CredentialCache {
  private readonly verified = new Map<string, { storedHash: string; digest: Buffer }>();

  constructor(private readonly maxEntries = 100_000) {}

  matches(deviceId: string, storedHash: string, secret: string): boolean {
    const entry = this.verified.get(deviceId);
    if (!entry || entry.storedHash !== storedHash) return false;
    return timingSafeEqual(entry.digest, digest(secret));
  }

  remember(deviceId: string, storedHash: string, secret: string): void {
    if (this.verified.size >= this.maxEntries && !this.verified.has(deviceId)) {
      this.verified.delete(this.verified.keys().next().value!); // oldest first
    }
    this.verified.set(deviceId, { storedHash, digest: digest(secret) });
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
