// The sign-in rate limit on its own clock: how many failures, for how long, what resets it, and that
// nobody can use it to keep someone else out.
import { describe, expect, it } from 'vitest';
import { DeviceTokens } from './device-tokens.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from './login-limiter.ts';

function limiter(maxKeys = 100) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  const limits = new LoginLimiter(
    {
      ...DEFAULT_LOGIN_LIMITS,
      pairFailures: 3,
      accountFailures: 6,
      backoffBaseMs: 30_000,
      backoffMaxMs: 600_000,
      addressFailures: 10,
      maxKeys,
    },
    clock.now,
  );
  return { clock, limits };
}

describe('LoginLimiter', () => {
  it('blocks one address guessing one account after 3 failures until the oldest leaves the minute', () => {
    const { clock, limits } = limiter();
    for (let i = 0; i < 3; i++) {
      expect(limits.check('10.0.0.1', 'alice').allowed).toBe(true);
      limits.fail('10.0.0.1', 'alice');
      clock.advance(10_000);
    }
    expect(limits.check('10.0.0.1', 'Alice')).toEqual({
      allowed: false,
      retryAfterMs: 30_000,
      firstRefusal: true,
    });
    expect(limits.check('10.0.0.1', 'alice')).toMatchObject({ allowed: false, firstRefusal: false });
    clock.advance(30_000);
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(true);
  });

  it("does not let one address's failures on one account lock out the other people of that office", () => {
    const { limits } = limiter();
    for (let i = 0; i < 3; i++) limits.fail('10.0.0.1', 'alice');
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(false);
    expect(limits.check('10.0.0.1', 'bob').allowed).toBe(true);
    expect(limits.check('10.0.0.2', 'alice').allowed).toBe(true);
  });

  it('backs off an account guessed from many addresses, doubling, but not for a browser it signed in from', () => {
    const { clock, limits } = limiter();
    for (let i = 0; i < 6; i++) limits.fail(`10.0.1.${i}`, 'alice');
    expect(limits.check('10.0.2.1', 'alice')).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
    expect(limits.check('10.0.2.1', 'alice', true).allowed).toBe(true);
    clock.advance(30_000);
    limits.fail('10.0.1.7', 'alice');
    expect(limits.check('10.0.2.1', 'alice')).toMatchObject({ allowed: false, retryAfterMs: 60_000 });
    for (let i = 0; i < 10; i++) limits.fail('10.0.1.8', 'alice');
    // Capped at the maximum.
    expect(limits.check('10.0.2.1', 'alice')).toMatchObject({ retryAfterMs: 600_000 });
    limits.succeed('10.0.2.1', 'alice');
    expect(limits.check('10.0.2.1', 'alice').allowed).toBe(true);
  });

  it('blocks an address that tries many accounts, except for browsers trusted by the account they sign in to', () => {
    const { limits } = limiter();
    for (let i = 0; i < 10; i++) limits.fail('10.0.0.1', `user${i}`);
    expect(limits.check('10.0.0.1', 'carol').allowed).toBe(false);
    expect(limits.check('10.0.0.1', 'carol', true).allowed).toBe(true);
    expect(limits.check('10.0.0.2', 'carol').allowed).toBe(true);
  });

  it('lets an admin clear an account: its back-off and every address on it', () => {
    const { limits } = limiter();
    for (let i = 0; i < 6; i++) limits.fail('10.0.0.1', 'alice');
    expect(limits.check('10.0.0.9', 'alice').allowed).toBe(false);
    limits.clear('ALICE');
    expect(limits.check('10.0.0.9', 'alice').allowed).toBe(true);
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(true);
  });

  it('reports the first refusal again once a new burst starts after the window', () => {
    const { clock, limits } = limiter();
    const burst = () => {
      for (let i = 0; i < 3; i++) limits.fail('10.0.0.1', 'alice');
    };
    burst();
    expect(limits.check('10.0.0.1', 'alice')).toMatchObject({ firstRefusal: true });
    clock.advance(61_000);
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(true);
    burst();
    expect(limits.check('10.0.0.1', 'alice', true)).toMatchObject({ firstRefusal: true });
  });

  it('forgets the oldest keys first when it must bound its memory', () => {
    const { limits } = limiter(6);
    for (let i = 0; i < 3; i++) limits.fail('10.0.0.1', 'alice');
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(false);
    for (const name of ['x', 'y', 'z']) limits.fail(`10.0.1.${name.charCodeAt(0)}`, name);
    expect(limits.check('10.0.0.1', 'alice').allowed).toBe(true);
  });
});

describe('DeviceTokens', () => {
  it('trusts a token it issued for that account, for 90 days, and nothing else', () => {
    let t = 1_000_000;
    const tokens = new DeviceTokens(undefined, () => t);
    const token = tokens.issue('Alice');
    expect(tokens.trusted(token, 'alice')).toBe(true);
    expect(tokens.trusted(token, 'bob')).toBe(false);
    expect(tokens.trusted(token.slice(0, -2) + 'xx', 'alice')).toBe(false);
    expect(new DeviceTokens().trusted(token, 'alice')).toBe(false);
    const [name, , mac] = token.split('.');
    expect(tokens.trusted(`${name}.${t - 1}.${mac}`, 'alice')).toBe(false);
    expect(tokens.trusted(undefined, 'alice')).toBe(false);
    t += 90 * 24 * 3_600_000;
    expect(tokens.trusted(token, 'alice')).toBe(false);
  });
});
