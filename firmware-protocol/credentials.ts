// Device secrets and passwords are stored only as scrypt hashes: `scrypt$N$r$p$salt$hash` (base64url).
// Shared: the registry hashes a new device's secret, the gateway verifies it, accounts hash passwords.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// Passwords people choose get the full cost. A device secret is 192 random bits, which no amount of
// hashing makes stronger; its lower cost bounds how fast a reconnect storm after a gateway restart
// (thousands of devices at once) is absorbed: about 7 ms instead of 35 ms a check on this class of machine.
const PASSWORD_N = 16_384;
const DEVICE_SECRET_N = 2_048;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LEN, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** A fresh random secret for a device: 24 bytes, base64url, typed once by an installer or flashed. */
export function generateSecret(): string {
  return randomBytes(24).toString('base64url');
}

async function hash(secret: string, n: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, n, R, P);
  return ['scrypt', n, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** For a generated device secret (see generateSecret). */
export function hashSecret(secret: string): Promise<string> {
  return hash(secret, DEVICE_SECRET_N);
}

/** For a password a person chose. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_N);
}

/** Constant-time check of a secret or password against a stored hash; false for a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!Number.isInteger(n) || !Number.isInteger(r) || !Number.isInteger(p) || expected.length !== KEY_LEN)
    return false;
  const actual = await derive(secret, salt, n, r, p);
  return timingSafeEqual(actual, expected);
}
