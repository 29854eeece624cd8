// Device tokens: after a correct sign-in the browser gets a token saying "this account signed in here",
// signed with a key only this process knows. Showing it later lets that browser past the account and
// address sign-in limits (login-limiter.ts), so nobody can lock a person on duty out of their own browser
// by failing sign-ins in their name. The key is kept in the database (shared-keys.ts), so a token from
// one Anju process is good on every other sharing the database, and after a restart.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEVICE_COOKIE = 'anju_device';
export const DEVICE_TOKEN_TTL_MS = 90 * 24 * 3_600_000;

export class DeviceTokens {
  constructor(
    private readonly key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {}

  issue(username: string): string {
    const body = `${Buffer.from(normal(username)).toString('base64url')}.${this.now()}`;
    return `${body}.${this.sign(body)}`;
  }

  /** Whether `token` was issued here for `username` within the last 90 days. */
  trusted(token: string | undefined, username: string): boolean {
    if (!token || token.length > 512) return false;
    const [name, issued, mac] = token.split('.');
    if (name === undefined || issued === undefined || mac === undefined) return false;
    const expected = Buffer.from(this.sign(`${name}.${issued}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const age = this.now() - Number(issued);
    return (
      Buffer.from(name, 'base64url').toString() === normal(username) && age >= 0 && age < DEVICE_TOKEN_TTL_MS
    );
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

function normal(username: string): string {
  return username.trim().toLowerCase();
}
