// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): the second factor staff and admins may
// turn on. Secrets are 20 random bytes shown once as base32 (an otpauth:// URI for authenticator apps);
// a code is accepted one 30 s step either side of now, and never twice.
import { createHmac, randomBytes } from 'node:crypto';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error('not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP: the `digits`-digit code for `counter`. */
export function hotp(secret: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(binary).padStart(digits, '0');
}

/** RFC 6238 TOTP: the code for Unix time `atMs`, with 30 s steps from 0. */
export function totp(secret: Buffer, atMs: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  return hotp(secret, Math.floor(atMs / 30_000), digits, algorithm);
}

export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

export function otpauthUri(secret: string, username: string, issuer = 'Anju'): string {
  const label = encodeURIComponent(`${issuer}:${username}`);
  return `otpauth://totp/${label}?secret=${secret}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
}

/**
 * The time step a code matches, one step either side of now (clocks drift), or undefined. Passing
 * `usedStep` refuses that step and any before it, so a code seen over a shoulder is not good twice.
 */
export function matchTotp(secret: string, code: string, atMs: number, usedStep = -1): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const key = base32Decode(secret);
  const now = Math.floor(atMs / 30_000);
  for (const step of [now, now - 1, now + 1]) {
    if (step <= usedStep) continue;
    if (hotp(key, step) === code) return step;
  }
  return undefined;
}
