// Browser sessions in a real registry file: idle timeout renewed by use, a hard maximum age, the CSRF
// token, sign-out and purging.
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../registry/test-dir.ts';
import { csrfMatches, SessionStore } from './sessions.ts';
import { UserStore } from './users.ts';
import { openRegistryFile } from '../../test/registry-file.ts';

const tempDir = useTempDirs();
const MINUTE = 60_000;

async function setup() {
  let t = Date.UTC(2026, 0, 1);
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  const { registry, database } = await openRegistryFile(tempDir());
  const user = await new UserStore(database, clock.now).create({
    username: 'alice',
    displayName: 'Alice',
    role: 'admin',
    password: 'long-enough-pw',
  });
  const sessions = new SessionStore(database, clock.now, {
    idleMs: 30 * MINUTE,
    maxAgeMs: 120 * MINUTE,
  });
  return { clock, registry, sessions, userId: user.id };
}

describe('SessionStore', () => {
  it('ends a session left unused for the idle time, and keeps one that is used', async () => {
    const { clock, registry, sessions, userId } = await setup();
    const used = sessions.create(userId, { address: '127.0.0.1' });
    const idle = sessions.create(userId, { address: '127.0.0.1' });
    for (let i = 0; i < 3; i++) {
      clock.advance(20 * MINUTE);
      expect(sessions.find(used.cookie)?.userId).toBe(userId);
    }
    expect(sessions.find(idle.cookie)).toBeUndefined();
    await registry.close();
  });

  it('ends even a busy session at its maximum age', async () => {
    const { clock, registry, sessions, userId } = await setup();
    const { cookie } = sessions.create(userId, { address: '127.0.0.1' });
    for (let i = 0; i < 11; i++) {
      clock.advance(10 * MINUTE);
      expect(sessions.find(cookie), `after ${(i + 1) * 10} min`).toBeDefined();
    }
    clock.advance(10 * MINUTE);
    expect(sessions.find(cookie)).toBeUndefined();
    await registry.close();
  });

  it('derives a CSRF token per session that only matches its own session', async () => {
    const { registry, sessions, userId } = await setup();
    const a = sessions.create(userId, { address: '127.0.0.1' });
    const b = sessions.create(userId, { address: '127.0.0.1' });
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(sessions.find(a.cookie)!.csrfToken).toBe(a.session.csrfToken);
    expect(csrfMatches(a.session, a.session.csrfToken)).toBe(true);
    expect(csrfMatches(a.session, b.session.csrfToken)).toBe(false);
    expect(csrfMatches(a.session, undefined)).toBe(false);
    expect(csrfMatches(a.session, '')).toBe(false);
    await registry.close();
  });

  it('tells listeners when a session ends, and purges expired ones', async () => {
    const { clock, registry, sessions, userId } = await setup();
    const ended: string[] = [];
    sessions.onEnd((key) => ended.push(key));
    const a = sessions.create(userId, { address: '127.0.0.1' });
    sessions.create(userId, { address: '127.0.0.1' });
    sessions.end(a.session.key);
    expect(ended).toEqual([a.session.key]);
    expect(sessions.find(a.cookie)).toBeUndefined();
    clock.advance(31 * MINUTE);
    expect(sessions.purgeExpired()).toBe(1);
    await registry.close();
  });

  it('finds nothing for a malformed or unknown cookie', async () => {
    const { registry, sessions } = await setup();
    for (const cookie of ['', 'short', "' OR 1=1 --", 'A'.repeat(43), 'A'.repeat(4000)]) {
      expect(sessions.find(cookie)).toBeUndefined();
    }
    await registry.close();
  });
});
