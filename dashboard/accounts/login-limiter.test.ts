// The sign-in rate limit on its own clock: how many failures, for how long, and what resets it.
import { describe, expect, it } from 'vitest';
import { LoginLimiter } from './login-limiter.ts';

function limiter(maxKeys = 100) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  return { clock, limits: new LoginLimiter({ maxFailures: 3, windowMs: 60_000, maxKeys }, clock.now) };
}

describe('LoginLimiter', () => {
  it('blocks a username after the allowed failures until the oldest leaves the window', () => {
    const { clock, limits } = limiter();
    for (let i = 0; i < 3; i++) {
      expect(limits.check(`10.0.0.${i}`, 'alice').allowed).toBe(true);
      limits.fail(`10.0.0.${i}`, 'alice');
      clock.advance(10_000);
    }
    const verdict = limits.check('10.0.0.9', 'Alice');
    expect(verdict).toEqual({ allowed: false, retryAfterMs: 30_000, firstRefusal: true });
    expect(limits.check('10.0.0.9', 'alice')).toMatchObject({ allowed: false, firstRefusal: false });
    clock.advance(30_000);
    expect(limits.check('10.0.0.9', 'alice').allowed).toBe(true);
  });

  it('blocks an address that tries many usernames, without blocking those users elsewhere', () => {
    const { limits } = limiter();
    for (const name of ['a', 'b', 'c']) limits.fail('10.0.0.1', name);
    expect(limits.check('10.0.0.1', 'd').allowed).toBe(false);
    expect(limits.check('10.0.0.2', 'a').allowed).toBe(true);
  });

  it("clears a username's failures on success, but not the address's", () => {
    const { limits } = limiter();
    limits.fail('10.0.0.1', 'alice');
    limits.fail('10.0.0.1', 'alice');
    limits.succeed('alice');
    limits.fail('10.0.0.2', 'alice');
    limits.fail('10.0.0.2', 'alice');
    expect(limits.check('10.0.0.3', 'alice').allowed).toBe(true);
    limits.fail('10.0.0.1', 'bob');
    expect(limits.check('10.0.0.1', 'carol').allowed).toBe(false);
  });

  it('reports the first refusal again once a new burst starts after the window', () => {
    const { clock, limits } = limiter();
    const burst = () => {
      for (let i = 0; i < 3; i++) limits.fail('10.0.0.1', 'alice');
    };
    burst();
    expect(limits.check('10.0.0.1', 'alice')).toMatchObject({ firstRefusal: true });
    clock.advance(61_000);
    burst();
    expect(limits.check('10.0.0.1', 'alice')).toMatchObject({ firstRefusal: true });
  });

  it('forgets the oldest keys first when it must bound its memory', () => {
    const { limits } = limiter(4);
    for (let i = 0; i < 3; i++) limits.fail('10.0.0.1', 'alice');
    expect(limits.check('10.0.0.5', 'alice').allowed).toBe(false);
    for (const name of ['x', 'y', 'z']) limits.fail(`10.0.1.${name.charCodeAt(0)}`, name);
    expect(limits.check('10.0.0.5', 'alice').allowed).toBe(true);
  });
});
