// Accounts on both backends: a fresh SQLite file and a real PostgreSQL 15. The same behaviour is expected
// of each, down to the errors; what must hold across processes is checked with a second connection.
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { migrate } from '../../database/migrations.ts';
import { isCheckViolation, type Database } from '../../database/sql.ts';
import { REGISTRY_SCHEMA } from '../../registry/migrations.ts';
import { eachBackend, type Backend } from '../../test/backends.ts';
import {
  AccountError,
  ACCOUNTS_SCHEMA,
  Accounts,
  DEFAULT_LOGIN_LIMITS,
  ensureFirstAdmin,
  type User,
} from './index.ts';
import { csrfMatches } from './sessions.ts';
import { base32Decode, totp } from './totp.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1, 8, 0, 0);
const HERE = { address: '10.0.0.1', userAgent: 'vitest' };

/** What the account tables point at, written with plain SQL: two communities and a resident in each. */
async function seedRegistry(db: Database): Promise<void> {
  for (const n of [1, 2]) {
    await db.run('INSERT INTO communities (id, name, created_at) VALUES (?, ?, ?)', [`cm_${n}`, `C${n}`, 0]);
    await db.run('INSERT INTO compounds (id, community_id, name, created_at) VALUES (?, ?, ?, ?)', [
      `cp_${n}`,
      `cm_${n}`,
      'A',
      0,
    ]);
    await db.run('INSERT INTO buildings (id, compound_id, name, created_at) VALUES (?, ?, ?, ?)', [
      `bd_${n}`,
      `cp_${n}`,
      '1',
      0,
    ]);
    await db.run('INSERT INTO homes (id, building_id, label, created_at) VALUES (?, ?, ?, ?)', [
      `hm_${n}`,
      `bd_${n}`,
      '101',
      0,
    ]);
    await db.run(
      'INSERT INTO residents (id, home_id, name, lives_alone, language, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [`rs_${n}`, `hm_${n}`, `Resident ${n}`, 1, 'zh-CN', 0],
    );
  }
}

function clock() {
  let t = START;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

const POLICY = { idleMs: 30 * MINUTE, maxAgeMs: 120 * MINUTE };

async function setup(backend: Backend) {
  const db = await backend.fresh();
  await migrate(db, [REGISTRY_SCHEMA, ACCOUNTS_SCHEMA]);
  await seedRegistry(db);
  const time = clock();
  const accounts = new Accounts(db, { now: time.now, sessions: POLICY });
  /** The same database as another Anju process sees it. */
  const elsewhere = async () => new Accounts(await backend.again(), { now: time.now, sessions: POLICY });
  return { db, time, accounts, elsewhere };
}

const PASSWORD = 'quiet-river-stone-8';

function staffInput(username = 'zhou') {
  return {
    username,
    displayName: '周社工',
    role: 'staff' as const,
    password: PASSWORD,
    communities: ['cm_1'],
  };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AccountError);
  const { code, message } = err as AccountError;
  return { code, message };
}

async function counts(db: Database) {
  const n = async (table: string) => (await db.one<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
  return {
    users: await n('users'),
    communities: await n('user_communities'),
    residents: await n('user_residents'),
  };
}

eachBackend('Accounts', (backend) => {
  describe('users', () => {
    it('creates users of each role with their scopes, and finds them by id and by username', async () => {
      const { accounts, time } = await setup(backend);
      const admin = await accounts.users.create({
        username: 'Boss',
        displayName: 'Administrator',
        role: 'admin',
        password: PASSWORD,
      });
      const staff = await accounts.users.create({ ...staffInput(), communities: ['cm_2', 'cm_1', 'cm_2'] });
      const family = await accounts.users.create({
        username: 'wang.family',
        displayName: '王磊',
        role: 'family',
        password: PASSWORD,
        language: 'en',
        residents: ['rs_2'],
      });
      expect(admin).toEqual({
        id: expect.stringMatching(/^us_[0-9a-f]{16}$/),
        username: 'boss',
        displayName: 'Administrator',
        role: 'admin',
        language: 'zh-CN',
        communities: [],
        residents: [],
        channels: ['app'],
        createdAt: time.now(),
        disabledAt: null,
        twoFactor: false,
      } satisfies User);
      expect(staff.communities).toEqual(['cm_1', 'cm_2']);
      expect(family).toMatchObject({ role: 'family', language: 'en', residents: ['rs_2'], communities: [] });

      expect(await accounts.users.get(staff.id)).toEqual(staff);
      expect((await accounts.users.credentials(' WANG.Family '))?.user).toEqual(family);
      expect(await accounts.users.list()).toEqual([admin, family, staff]);
      expect(await accounts.users.hasAdmin()).toBe(true);
    });

    it('refuses a taken username, unknown communities and residents, with the same errors, and writes nothing', async () => {
      const { accounts, db } = await setup(backend);
      await accounts.users.create(staffInput());
      const before = await counts(db);
      expect(await refusal(accounts.users.create({ ...staffInput('ZHOU'), displayName: 'Other' }))).toEqual({
        code: 'duplicate_user',
        message: 'the username zhou is taken',
      });
      expect(
        await refusal(accounts.users.create({ ...staffInput('lihua'), communities: ['cm_1', 'cm_9'] })),
      ).toEqual({ code: 'unknown_reference', message: 'no community cm_9' });
      expect(
        await refusal(
          accounts.users.create({
            username: 'li.family',
            displayName: 'Li',
            role: 'family',
            password: PASSWORD,
            residents: ['rs_1', 'rs_9'],
          }),
        ),
      ).toEqual({ code: 'unknown_reference', message: 'no resident rs_9' });
      // Bad input is refused before the database is asked.
      await expect(
        accounts.users.create({ ...staffInput('lihua'), password: 'short' }),
      ).rejects.toBeInstanceOf(ZodError);
      expect(await counts(db)).toEqual(before);
    });

    it('answers an unknown user with not_found everywhere, the same on both backends', async () => {
      const { accounts } = await setup(backend);
      const unknown = { code: 'not_found', message: 'no user us_nobody' };
      expect(await accounts.users.get('us_nobody')).toBeUndefined();
      expect(await accounts.users.credentials('nobody')).toBeUndefined();
      expect(await refusal(accounts.users.setPassword('us_nobody', PASSWORD))).toEqual(unknown);
      expect(await refusal(accounts.users.setDisabled('us_nobody', 1))).toEqual(unknown);
      expect(await refusal(accounts.users.setTotp('us_nobody', null))).toEqual(unknown);
      expect(
        await refusal(accounts.users.setPreferences('us_nobody', { channels: ['app'], language: 'en' })),
      ).toEqual(unknown);
      expect(await refusal(accounts.disable('us_nobody'))).toEqual(unknown);
      expect(await refusal(accounts.resetPassword('us_nobody', PASSWORD))).toEqual(unknown);
      expect(await accounts.users.hasAdmin()).toBe(false);
    });

    it('keeps preferences: channels once each, and the language', async () => {
      const { accounts } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      const changed = await accounts.users.setPreferences(user.id, {
        channels: ['sms', 'app', 'sms'],
        language: 'en',
      });
      expect(changed).toMatchObject({ channels: ['sms', 'app'], language: 'en' });
      expect(await accounts.users.get(user.id)).toEqual(changed);
    });

    it('makes the first admin once, also when two processes start at the same moment', async () => {
      const { accounts, elsewhere } = await setup(backend);
      const other = await elsewhere();
      const announce = () => {};
      const made = await Promise.all([
        ensureFirstAdmin(accounts.users, { password: PASSWORD, announce }),
        ensureFirstAdmin(other.users, { password: PASSWORD, announce }),
      ]);
      expect(made.filter(Boolean)).toHaveLength(1);
      expect((await accounts.users.list()).map((u) => u.username)).toEqual(['admin']);
    });
  });

  describe('passwords and disabling', () => {
    it('signs in with the right password only, and audits each attempt', async () => {
      const { accounts } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      expect(await accounts.signIn({ username: 'zhou', password: 'wrong-password-1', ...HERE })).toEqual({
        ok: false,
        reason: 'bad_credentials',
      });
      expect(await accounts.signIn({ username: 'nobody', password: PASSWORD, ...HERE })).toEqual({
        ok: false,
        reason: 'bad_credentials',
      });
      const ok = await accounts.signIn({ username: 'Zhou', password: PASSWORD, ...HERE });
      expect(ok).toMatchObject({ ok: true, user: { id: user.id } });
      expect((await accounts.audit.recent()).map((e) => [e.username, e.userId, e.outcome])).toEqual([
        ['zhou', user.id, 'ok'],
        ['nobody', null, 'failed'],
        ['zhou', user.id, 'failed'],
      ]);
    });

    it('changes a password under the policy and ends every other session of the user', async () => {
      const { accounts } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      const here = await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      const there = await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      if (!here.ok || !there.ok) throw new Error('sign-in failed');
      const change = (currentPassword: string, newPassword: string) =>
        accounts.changePassword({
          user,
          currentPassword,
          newPassword,
          address: HERE.address,
          sessionKey: here.session.key,
        });

      expect(await change('wrong-password-1', 'another-long-phrase-9')).toMatchObject({
        ok: false,
        reason: 'wrong_current',
      });
      expect(await change(PASSWORD, PASSWORD)).toMatchObject({ ok: false, reason: 'unchanged' });
      expect(await change(PASSWORD, '1234567890')).toMatchObject({ ok: false, reason: 'weak' });
      expect(await change(PASSWORD, 'zhou-zhou-zhou-1')).toMatchObject({ ok: false, reason: 'weak' });
      expect(await accounts.sessions.find(there.cookie)).toBeDefined();

      expect(await change(PASSWORD, 'another-long-phrase-9')).toEqual({ ok: true, endedSessions: 1 });
      expect(await accounts.sessions.find(here.cookie)).toBeDefined();
      expect(await accounts.sessions.find(there.cookie)).toBeUndefined();
      expect(await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE })).toMatchObject({
        ok: false,
      });
      expect(
        await accounts.signIn({ username: 'zhou', password: 'another-long-phrase-9', ...HERE }),
      ).toMatchObject({
        ok: true,
      });
    });

    it('trusts a browser that signed in through another process past the account back-off', async () => {
      const { accounts, time } = await setup(backend);
      const limits = { ...DEFAULT_LOGIN_LIMITS, accountFailures: 2 };
      const other = new Accounts(await backend.again(), { now: time.now, loginLimits: limits });
      await accounts.users.create(staffInput());
      const signedIn = await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      if (!signedIn.ok) throw new Error('sign-in failed');
      for (const address of ['10.9.0.1', '10.9.0.2'])
        await other.signIn({ username: 'zhou', password: 'wrong-password-1', address });
      expect(await other.signIn({ username: 'zhou', password: PASSWORD, ...HERE })).toMatchObject({
        ok: false,
        reason: 'rate_limited',
      });
      expect(
        await other.signIn({
          username: 'zhou',
          password: PASSWORD,
          ...HERE,
          deviceToken: signedIn.deviceToken,
        }),
      ).toMatchObject({ ok: true });
    });

    it('lets an admin reset a password under the policy, ending the sessions', async () => {
      const { accounts } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      const before = await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      if (!before.ok) throw new Error('sign-in failed');
      expect(await accounts.resetPassword(user.id, 'zhou12345678')).toMatch(/^password: /);
      expect(await accounts.sessions.find(before.cookie)).toBeDefined();
      expect(await accounts.resetPassword(user.id, 'another-long-phrase-9')).toBeUndefined();
      expect(await accounts.sessions.find(before.cookie)).toBeUndefined();
      expect(
        await accounts.signIn({ username: 'zhou', password: 'another-long-phrase-9', ...HERE }),
      ).toMatchObject({
        ok: true,
      });
    });

    it('disables an account, ending its sessions, and enables it again', async () => {
      const { accounts, time } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      const session = await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      if (!session.ok) throw new Error('sign-in failed');
      expect(await accounts.disable(user.id)).toMatchObject({ id: user.id, disabledAt: time.now() });
      expect(await accounts.sessions.find(session.cookie)).toBeUndefined();
      // A disabled account answers like a wrong password.
      expect(await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE })).toEqual({
        ok: false,
        reason: 'bad_credentials',
      });
      expect(await accounts.enable(user.id)).toMatchObject({ disabledAt: null });
      expect(await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE })).toMatchObject({
        ok: true,
      });
    });
  });

  describe('sessions', () => {
    async function withUser(backend: Backend) {
      const context = await setup(backend);
      const user = await context.accounts.users.create(staffInput());
      return { ...context, user, sessions: context.accounts.sessions };
    }

    it('keeps a used session past the idle time, ends an unused one, and ends even a busy one at its maximum age', async () => {
      const { sessions, time, user } = await withUser(backend);
      const used = await sessions.create(user.id, HERE);
      const idle = await sessions.create(user.id, HERE);
      for (let i = 0; i < 5; i++) {
        time.advance(20 * MINUTE);
        expect(await sessions.find(used.cookie), `after ${(i + 1) * 20} min`).toMatchObject({
          key: used.session.key,
          userId: user.id,
          csrfToken: used.session.csrfToken,
        });
      }
      expect(await sessions.find(idle.cookie)).toBeUndefined();
      time.advance(20 * MINUTE); // 120 min after sign-in
      expect(await sessions.find(used.cookie)).toBeUndefined();
    });

    it('lists only the user’s own live sessions, most recently used first, and ends one or all but one', async () => {
      const { accounts, sessions, time, user } = await withUser(backend);
      const other = await accounts.users.create(staffInput('lihua'));
      const ended: string[] = [];
      sessions.onEnd((key) => ended.push(key));
      const a = await sessions.create(user.id, { address: '10.0.0.1', userAgent: 'phone' });
      time.advance(MINUTE);
      const b = await sessions.create(user.id, { address: '10.0.0.2' });
      time.advance(MINUTE);
      const c = await sessions.create(user.id, { address: '10.0.0.3' });
      const theirs = await sessions.create(other.id, HERE);
      time.advance(MINUTE);
      await sessions.find(a.cookie); // used last

      const listed = await sessions.listOf(user.id);
      expect(listed.map((s) => s.key)).toEqual([a.session.key, c.session.key, b.session.key]);
      expect(listed[0]).toEqual({
        key: a.session.key,
        createdAt: START,
        lastUsedAt: START + 3 * MINUTE,
        expiresAt: START + 33 * MINUTE,
        address: '10.0.0.1',
        userAgent: 'phone',
      });

      await sessions.end(b.session.key);
      expect(ended).toEqual([b.session.key]);
      expect(await sessions.find(b.cookie)).toBeUndefined();
      expect(await sessions.endAllOf(user.id, a.session.key)).toBe(1);
      expect(ended).toEqual([b.session.key, c.session.key]);
      expect((await sessions.listOf(user.id)).map((s) => s.key)).toEqual([a.session.key]);
      expect(await sessions.find(theirs.cookie)).toBeDefined();
      expect(await sessions.endAllOf(user.id)).toBe(1);
      expect(await sessions.listOf(user.id)).toEqual([]);
    });

    it('derives a CSRF token per session, purges expired sessions and finds nothing for a bad cookie', async () => {
      const { sessions, time, user } = await withUser(backend);
      const a = await sessions.create(user.id, HERE);
      const b = await sessions.create(user.id, HERE);
      expect(csrfMatches(a.session, a.session.csrfToken)).toBe(true);
      expect(csrfMatches(a.session, b.session.csrfToken)).toBe(false);
      expect(csrfMatches(a.session, undefined)).toBe(false);
      for (const cookie of ['', 'short', "' OR 1=1 --", 'A'.repeat(43), 'A'.repeat(4000)])
        expect(await sessions.find(cookie)).toBeUndefined();
      time.advance(31 * MINUTE);
      expect(await sessions.purgeExpired()).toBe(2);
      expect(await sessions.purgeExpired()).toBe(0);
    });

    it('holds across processes: a session made by one is live on the other, and ending it on either ends it', async () => {
      const { accounts, elsewhere, user } = await withUser(backend);
      const other = await elsewhere();
      const first = await accounts.sessions.create(user.id, HERE);
      const second = await accounts.sessions.create(user.id, HERE);
      expect(await other.sessions.find(first.cookie)).toMatchObject({
        key: first.session.key,
        userId: user.id,
      });
      await other.sessions.end(first.session.key);
      expect(await accounts.sessions.find(first.cookie)).toBeUndefined();
      expect(await other.sessions.live([first.session.key, second.session.key, 'f'.repeat(64)])).toEqual(
        new Set([second.session.key]),
      );
      await accounts.disable(user.id);
      expect(await other.sessions.find(second.cookie)).toBeUndefined();
      expect(await other.sessions.live([second.session.key])).toEqual(new Set());
    });

    it('tells which of many sessions are live, expired ones not', async () => {
      const { sessions, time, user } = await withUser(backend);
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await sessions.create(user.id, HERE));
      const keys = made.map((m) => m.session.key);
      const unknown = Array.from({ length: 600 }, (_, i) => i.toString(16).padStart(64, '0'));
      expect(await sessions.live([...unknown, ...keys])).toEqual(new Set(keys));
      time.advance(10 * MINUTE);
      await sessions.find(made[0]!.cookie);
      time.advance(25 * MINUTE);
      expect(await sessions.live(keys)).toEqual(new Set([keys[0]]));
      expect(await sessions.live([])).toEqual(new Set());
    });
  });

  describe('the login audit', () => {
    it('is append-only in the database itself: UPDATE and DELETE are refused and change nothing', async () => {
      const { accounts, db } = await setup(backend);
      await accounts.users.create(staffInput());
      await accounts.signIn({ username: 'zhou', password: 'wrong-password-1', ...HERE });
      await accounts.signIn({ username: 'zhou', password: PASSWORD, ...HERE });
      const before = await accounts.audit.recent();
      expect(before).toHaveLength(2);
      const id = before[0]!.id;
      const attempts: [string, (string | number)[]][] = [
        ["UPDATE login_audit SET outcome = 'ok'", []],
        ['UPDATE login_audit SET address = ? WHERE id = ?', ['1.2.3.4', id]],
        ['DELETE FROM login_audit', []],
        ['DELETE FROM login_audit WHERE id = ?', [id]],
        // SQLite has no TRUNCATE; PostgreSQL's fires no row trigger, so it has its own.
        ...(backend.name === 'postgres' ? [['TRUNCATE login_audit', []] as [string, never[]]] : []),
      ];
      for (const [statement, params] of attempts) {
        const err = await db.run(statement, params).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isCheckViolation(err), statement).toBe(true);
        expect((err as Error).message).toContain('the login audit is append-only');
      }
      expect(await accounts.audit.recent()).toEqual(before);
    });
  });

  describe('the second factor', () => {
    it('turns on with a code from the app, asks for a code at sign-in and takes each code once', async () => {
      const { accounts, time } = await setup(backend);
      const user = await accounts.users.create(staffInput());
      const { secret, uri } = accounts.totpSetup(user);
      expect(uri).toContain(`secret=${secret}`);
      const code = (at = time.now()) => totp(base32Decode(secret), at);

      expect(await accounts.totpEnable(user, secret, code(time.now() + 10 * MINUTE))).toMatch(
        /does not match/,
      );
      expect(await accounts.totpEnable(user, 'not base32!', '123456')).toBe('the secret is not base32');
      expect((await accounts.users.get(user.id))!.twoFactor).toBe(false);
      const enrolment = code();
      expect(await accounts.totpEnable(user, secret, enrolment)).toBeUndefined();
      expect((await accounts.users.get(user.id))!.twoFactor).toBe(true);

      const signIn = (c?: string) =>
        accounts.signIn({ username: 'zhou', password: PASSWORD, code: c, ...HERE });
      expect(await signIn()).toEqual({ ok: false, reason: 'code_required' });
      // The code that turned it on was used.
      expect(await signIn(enrolment)).toEqual({ ok: false, reason: 'bad_code' });
      time.advance(30_000);
      const next = code();
      expect(await signIn(next)).toMatchObject({ ok: true });
      expect(await signIn(next)).toEqual({ ok: false, reason: 'bad_code' });

      await accounts.totpDisable(user.id);
      expect(await signIn()).toMatchObject({ ok: true });
      expect((await accounts.users.get(user.id))!.twoFactor).toBe(false);
    });

    it('takes a code once across processes, also when both present it at the same moment', async () => {
      const { accounts, elsewhere, time } = await setup(backend);
      const other = await elsewhere();
      const user = await accounts.users.create(staffInput());
      const { secret } = accounts.totpSetup(user);
      expect(await accounts.totpEnable(user, secret, totp(base32Decode(secret), time.now()))).toBeUndefined();
      const signIn = (on: Accounts, code: string) =>
        on.signIn({ username: 'zhou', password: PASSWORD, code, ...HERE });

      time.advance(30_000);
      const first = totp(base32Decode(secret), time.now());
      expect(await signIn(accounts, first)).toMatchObject({ ok: true });
      expect(await signIn(other, first)).toEqual({ ok: false, reason: 'bad_code' });

      time.advance(30_000);
      const raced = totp(base32Decode(secret), time.now());
      const results = await Promise.all([signIn(accounts, raced), signIn(other, raced)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'bad_code' }]);
    });
  });
});
