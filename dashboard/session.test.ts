// Signing in and out against a real anju serve: the cookie a browser gets, CSRF on every state change,
// the sign-in rate limit, the login audit, expired sessions and the security headers.
import { describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import { base32Decode, totp } from './accounts/totp.ts';
import { QR_OPTIONS } from './qr-code.ts';
import { startTestAnjuAroundTests, type TestAnju } from '../test/harness.ts';
import { sessionKey } from './accounts/sessions.ts';
import { addCommunity, ADMIN_PASSWORD, browser, json, registrySql, signedIn } from './test-support.ts';

let anju: TestAnju;

startTestAnjuAroundTests((started) => (anju = started), { adminPassword: ADMIN_PASSWORD });

describe('signing in', () => {
  it('gives the first admin, with the password from ANJU_ADMIN_PASSWORD, an httpOnly SameSite=Strict cookie', async () => {
    const tab = browser(anju);
    const res = await tab.signIn('admin', ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('anju_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i); // plain HTTP here; Secure when the request came over https
    const body = await json<{ user: Record<string, unknown>; csrfToken: string }>(res);
    expect(body.user).toMatchObject({ username: 'admin', role: 'admin', language: 'zh-CN' });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.csrfToken.length).toBeGreaterThan(20);

    const again = await tab.get('/api/v1/session');
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(body);
  });

  it('accepts the username in any case', async () => {
    expect((await browser(anju).signIn('ADMIN', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('refuses a wrong password and an unknown user alike, with problem JSON and no cookie', async () => {
    for (const [username, password] of [
      ['admin', 'not-the-password'],
      ['nobody-here', ADMIN_PASSWORD],
    ]) {
      const tab = browser(anju, '127.0.0.2');
      const res = await tab.signIn(username!, password!);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await json(res)).toMatchObject({ status: 401, detail: 'wrong username or password' });
      expect(tab.cookie).toBeUndefined();
    }
  });

  it('keeps only a hash of the session id in the database', async () => {
    const tab = browser(anju);
    await tab.signIn('admin', ADMIN_PASSWORD);
    const rows = await registrySql<{ id_sha256: string }>(anju, 'SELECT id_sha256 FROM sessions');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.id_sha256 === tab.cookie)).toBe(false);
    expect(JSON.stringify(rows)).not.toContain(tab.cookie!);
  });

  it('answers 401 without a session and says how to sign in', async () => {
    const res = await browser(anju).get('/api/v1/alerts');
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ status: 401, detail: 'sign in, or send a bearer token' });
    expect((await browser(anju).get('/api/v1/session')).status).toBe(401);
  });
});

describe('signing out', () => {
  it('ends the session: the same cookie no longer works', async () => {
    const tab = await signedIn(anju, 'admin');
    const cookie = tab.cookie;
    const res = await tab.request('DELETE', '/api/v1/session');
    expect(res.status).toBe(204);
    expect(tab.cookie).toBeUndefined(); // the server cleared it
    tab.cookie = cookie; // a copy kept by an attacker
    expect((await tab.get('/api/v1/alerts')).status).toBe(401);
  });

  it('needs the CSRF token, so another site cannot sign you out', async () => {
    const tab = await signedIn(anju, 'admin');
    expect((await tab.request('DELETE', '/api/v1/session', undefined, { csrf: false })).status).toBe(403);
    expect((await tab.get('/api/v1/session')).status).toBe(200);
  });
});

describe('CSRF', () => {
  it('refuses a state-changing request with a missing or wrong X-CSRF-Token, and runs it with the right one', async () => {
    const tab = await signedIn(anju, 'admin');
    const body = { channels: ['app', 'email'], language: 'en' };
    const missing = await tab.request('PUT', '/api/v1/me/preferences', body, { csrf: false });
    expect(missing.status).toBe(403);
    expect(await json(missing)).toMatchObject({ status: 403, title: 'Forbidden' });
    const wrong = await tab.request('PUT', '/api/v1/me/preferences', body, {
      csrf: false,
      headers: { 'x-csrf-token': 'A'.repeat(43) },
    });
    expect(wrong.status).toBe(403);
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual({
      channels: ['app'],
      language: 'zh-CN',
      quietHours: null,
      wecomUserId: null,
      dingtalkUserId: null,
    });

    const right = await tab.put('/api/v1/me/preferences', body);
    expect(right.status).toBe(200);
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual({
      ...body,
      quietHours: null,
      wecomUserId: null,
      dingtalkUserId: null,
    });
  });

  it('keeps quiet hours until changed, and refuses impossible ones', async () => {
    const tab = await signedIn(anju, 'admin');
    const quietHours = { from: '22:30', to: '06:45', timeZone: 'asia/shanghai' };
    const set = await tab.put('/api/v1/me/preferences', {
      channels: ['sms', 'app'],
      language: 'zh-CN',
      quietHours,
    });
    expect(set.status, await set.clone().text()).toBe(200);
    const stored = {
      channels: ['sms', 'app'],
      language: 'zh-CN',
      quietHours: { ...quietHours, timeZone: 'Asia/Shanghai' },
      wecomUserId: null,
      dingtalkUserId: null,
    };
    expect(await json(set)).toEqual(stored);
    // Left out: unchanged.
    await tab.put('/api/v1/me/preferences', { channels: ['sms', 'app'], language: 'zh-CN' });
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual(stored);
    for (const bad of [
      { from: '24:00', to: '06:00', timeZone: 'Asia/Shanghai' },
      { from: '22:00', to: '22:00', timeZone: 'Asia/Shanghai' },
      { from: '22:00', to: '06:00', timeZone: 'Mars/Olympus' },
      { from: '22:00', to: '06:00' },
    ]) {
      const res = await tab.put('/api/v1/me/preferences', {
        channels: ['app'],
        language: 'zh-CN',
        quietHours: bad,
      });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual(stored);
    await tab.put('/api/v1/me/preferences', { channels: ['app'], language: 'zh-CN', quietHours: null });
    expect(
      (await json<{ quietHours: unknown }>(await tab.get('/api/v1/me/preferences'))).quietHours,
    ).toBeNull();
  });

  it('keeps WeCom and DingTalk user ids for those channels, and refuses a work app without one, changing nothing', async () => {
    const tab = await signedIn(anju, 'staff');
    const chosen = { channels: ['wecom', 'dingtalk', 'sms'], language: 'zh-CN' };
    const ids = { wecomUserId: 'chen.wang', dingtalkUserId: '0123456789' };
    const set = await tab.put('/api/v1/me/preferences', { ...chosen, ...ids });
    expect(set.status, await set.clone().text()).toBe(200);
    const stored = { ...chosen, quietHours: null, ...ids };
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual(stored);
    // Left out: unchanged.
    await tab.put('/api/v1/me/preferences', chosen);
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual(stored);

    const withoutId = await tab.put('/api/v1/me/preferences', { ...chosen, wecomUserId: null });
    expect(withoutId.status).toBe(400);
    expect(await json(withoutId)).toMatchObject({ detail: 'the wecom channel needs your WeCom user id' });
    for (const bad of ['', 'has space', 'x'.repeat(65), '<script>']) {
      const res = await tab.put('/api/v1/me/preferences', { ...chosen, dingtalkUserId: bad });
      expect(res.status, bad).toBe(400);
      expect(JSON.stringify(await json(res))).toContain('dingtalkUserId');
    }
    expect(await json(await tab.get('/api/v1/me/preferences'))).toEqual(stored);
    // Unchosen, an id may go too.
    const cleared = await tab.put('/api/v1/me/preferences', {
      channels: ['sms'],
      language: 'zh-CN',
      wecomUserId: null,
      dingtalkUserId: null,
    });
    expect(await json(cleared)).toMatchObject({ channels: ['sms'], wecomUserId: null, dingtalkUserId: null });
  });

  it("does not accept another session's token", async () => {
    const mine = await signedIn(anju, 'admin');
    const theirs = await signedIn(anju, 'admin');
    const res = await mine.request(
      'PUT',
      '/api/v1/me/preferences',
      { channels: [], language: 'en' },
      { csrf: false, headers: { 'x-csrf-token': theirs.csrf! } },
    );
    expect(res.status).toBe(403);
  });

  it('is not asked of bearer-token clients, which no browser sends by itself', async () => {
    const { token } = await anju.registry.tokens.create('csrf-test');
    const res = await fetch(`http://127.0.0.1:${anju.ports.http}/api/v1/residents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Token Resident',
        address: { community: 'Token Community', compound: 'A', building: '1', home: '101' },
      }),
    });
    expect(res.status).toBe(201);
  });
});

describe('sign-in rate limit', () => {
  it('answers 429 with Retry-After after 5 failures a minute from one address for one account', async () => {
    const user = await signedIn(anju, 'staff');
    const guesser = browser(anju, '127.0.0.3');
    for (let i = 0; i < 5; i++)
      expect((await guesser.signIn(user.username, 'wrong-password')).status).toBe(401);
    const limited = await guesser.signIn(user.username, user.password);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A colleague in the same office, and the same person elsewhere, are not held back.
    expect((await browser(anju, '127.0.0.3').signIn('admin', ADMIN_PASSWORD)).status).toBe(200);
    expect((await browser(anju, '127.0.0.4').signIn(user.username, user.password)).status).toBe(200);
  });

  it('backs off an account guessed from many addresses, but lets its owner in from a browser they used', async () => {
    const user = await signedIn(anju, 'staff');
    const own = browser(anju, '127.0.0.5');
    expect((await own.signIn(user.username, user.password)).status).toBe(200);
    expect(own.device).toBeDefined();
    for (let i = 0; i < 10; i++) {
      expect((await browser(anju, `127.0.1.${i + 1}`).signIn(user.username, 'guess-' + i)).status).toBe(401);
    }
    // A new browser anywhere waits; the owner's own browser does not.
    const fresh = await browser(anju, '127.0.2.1').signIn(user.username, user.password);
    expect(fresh.status).toBe(429);
    expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect((await own.signIn(user.username, user.password)).status).toBe(200);
    // Nor does anyone once an admin vouches for the account.
    const admin = browser(anju);
    await admin.signIn('admin', ADMIN_PASSWORD);
    expect((await admin.post(`/api/v1/users/${user.userId}/sign-in-failures/clear`)).status).toBe(204);
    expect((await browser(anju, '127.0.2.2').signIn(user.username, user.password)).status).toBe(200);
  });

  it('answers 429 to an address that fails on 100 accounts in 15 min, except for browsers those accounts trust', async () => {
    const user = await signedIn(anju, 'staff');
    const office = '127.0.0.9';
    const colleague = browser(anju, office);
    expect((await colleague.signIn(user.username, user.password)).status).toBe(200);
    for (let i = 0; i < 100; i++) {
      expect((await browser(anju, office).signIn(`someone-${i}`, 'password123')).status).toBe(401);
    }
    expect((await browser(anju, office).signIn('admin', ADMIN_PASSWORD)).status).toBe(429);
    expect((await colleague.signIn(user.username, user.password)).status).toBe(200);
    expect((await browser(anju, '127.0.0.10').signIn('admin', ADMIN_PASSWORD)).status).toBe(200);
  }, 60_000);

  it('records sign-ins, failures, the first refusal of a burst and sign-outs in the login audit', async () => {
    const staff = await signedIn(anju, 'staff');
    for (let i = 0; i < 7; i++) await browser(anju, '127.0.0.11').signIn(staff.username, 'guess-' + i);
    await staff.request('DELETE', '/api/v1/session');

    const admin = browser(anju);
    await admin.signIn('admin', ADMIN_PASSWORD);
    const { entries } = await json<{
      entries: { username: string; outcome: string; userId: string | null }[];
    }>(await admin.get('/api/v1/audit/logins?limit=50'));
    const mine = entries.filter((e) => e.username === staff.username).map((e) => e.outcome);
    // Newest first: logout, one rate_limited (not two), five failures, the sign-in.
    expect(mine).toEqual(['logout', 'rate_limited', 'failed', 'failed', 'failed', 'failed', 'failed', 'ok']);
    expect(entries.find((e) => e.username === staff.username && e.outcome === 'ok')?.userId).toBe(
      staff.userId,
    );
    await expect(registrySql(anju, 'DELETE FROM login_audit')).rejects.toThrow(/append-only/);
  });
});

describe('sessions', () => {
  it('treats an expired session as no session and clears its cookie', async () => {
    const tab = await signedIn(anju, 'admin');
    await registrySql(anju, 'UPDATE sessions SET expires_at = 0 WHERE id_sha256 = ?', [
      sessionKey(tab.cookie!),
    ]);
    const res = await tab.get('/api/v1/alerts');
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().some((c) => /^anju_session=;/.test(c))).toBe(true);
  });

  it('lets a person change their own password, and only with the current one', async () => {
    const staff = await signedIn(anju, 'staff');
    const wrong = await staff.post('/api/v1/me/password', {
      currentPassword: 'not-it-at-all',
      newPassword: 'a-brand-new-password',
    });
    expect(wrong.status).toBe(403);
    const short = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: 'short',
    });
    expect(short.status).toBe(400);
    const ok = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: 'a-brand-new-password',
    });
    expect(ok.status).toBe(204);
    expect((await browser(anju, '127.0.0.12').signIn(staff.username, staff.password)).status).toBe(401);
    expect((await browser(anju, '127.0.0.12').signIn(staff.username, 'a-brand-new-password')).status).toBe(
      200,
    );
  });

  it.each([
    ['a run of one character', 'aaaaaaaaaa'],
    ['a common password', 'Password123'],
    ['a padded Chinese favourite', 'woaini1314'],
    ['a keyboard sequence', 'qwertyuiop'],
    ['an alphabet run backwards', 'jihgfedcba'],
    ['the username inside it', 'USERNAME-and-more'],
  ])('refuses %s as a new password', async (_what, next) => {
    const staff = await signedIn(anju, 'staff');
    const res = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: next.replace('USERNAME', staff.username),
    });
    expect(res.status).toBe(400);
    expect((await json(res)).detail).toMatch(/newPassword/);
  });

  it('refuses the current password as the new one', async () => {
    const staff = await signedIn(anju, 'staff');
    const res = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: staff.password,
    });
    expect(res.status).toBe(400);
    expect((await json(res)).detail).toMatch(/other than the current/);
  });

  it('answers 429 after 5 wrong current passwords a minute, even with the right one', async () => {
    const staff = await signedIn(anju, 'staff');
    for (let i = 0; i < 5; i++) {
      const res = await staff.post('/api/v1/me/password', {
        currentPassword: `guess-number-${i}`,
        newPassword: 'a-brand-new-password',
      });
      expect(res.status).toBe(403);
    }
    const limited = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: 'a-brand-new-password',
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('lists your own sessions, ends one of them, and ends the others when the password changes', async () => {
    const staff = await signedIn(anju, 'staff');
    const phone = browser(anju, '127.0.0.13');
    expect((await phone.signIn(staff.username, staff.password)).status).toBe(200);
    const laptop = browser(anju, '127.0.0.14');
    expect((await laptop.signIn(staff.username, staff.password)).status).toBe(200);
    const { sessions } = await json<{ sessions: { id: string; current: boolean; address: string }[] }>(
      await staff.get('/api/v1/me/sessions'),
    );
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const phoneSession = sessions.find((s) => s.address.endsWith('127.0.0.13'))!;
    expect((await staff.request('DELETE', `/api/v1/me/sessions/${phoneSession.id}`)).status).toBe(204);
    expect((await phone.get('/api/v1/session')).status).toBe(401);
    // Another person's session is not yours to end, nor to see.
    const admin = await signedIn(anju, 'admin');
    const adminSessions = await json<{ sessions: { id: string }[] }>(await admin.get('/api/v1/me/sessions'));
    expect(
      (await staff.request('DELETE', `/api/v1/me/sessions/${adminSessions.sessions[0]!.id}`)).status,
    ).toBe(404);
    expect((await admin.get('/api/v1/session')).status).toBe(200);
    const changed = await staff.post('/api/v1/me/password', {
      currentPassword: staff.password,
      newPassword: 'a-brand-new-password',
    });
    expect(changed.status).toBe(204);
    expect((await laptop.get('/api/v1/session')).status).toBe(401);
    expect((await staff.get('/api/v1/session')).status).toBe(200);
  });
});

describe('security headers', () => {
  it('sends a content security policy without inline script, allowing only this host and its WebSocket', async () => {
    const res = await fetch(`http://127.0.0.1:${anju.ports.http}/healthz`);
    const csp = res.headers.get('content-security-policy')!;
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(directives['default-src']).toEqual(["'self'"]);
    expect(directives['script-src']).toEqual(["'self'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(directives['connect-src']).toEqual(["'self'", `ws://127.0.0.1:${anju.ports.http}`]);
    expect(directives['frame-ancestors']).toEqual(["'none'"]);
    expect(directives['object-src']).toEqual(["'none'"]);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('does not put a forged Host header into the policy', async () => {
    const { request } = await import('node:http');
    const csp = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: anju.ports.http,
          path: '/healthz',
          headers: { host: 'evil.example; script-src *' },
        },
        (res) => {
          res.resume();
          resolve(String(res.headers['content-security-policy']));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(csp).not.toContain('evil');
    expect(csp).toContain("connect-src 'self' 'self'");
  });
});

describe('second factor (TOTP)', () => {
  async function withTotp() {
    const staff = await signedIn(anju, 'staff');
    const { secret, uri, qrCode } = await json<{ secret: string; uri: string; qrCode: string }>(
      await staff.post('/api/v1/me/totp/setup'),
    );
    expect(uri).toMatch(new RegExp(`^otpauth://totp/Anju%3A${staff.username}\\?secret=${secret}&`));
    // The QR code is the same URI, drawn by qrcode itself: what the phone scans is what the text says.
    const [, svg] = /^data:image\/svg\+xml;base64,(.+)$/.exec(qrCode) ?? [];
    expect(Buffer.from(svg!, 'base64').toString()).toBe(await QRCode.toString(uri, QR_OPTIONS));
    expect(await QRCode.toString(`${uri}x`, QR_OPTIONS)).not.toBe(Buffer.from(svg!, 'base64').toString());
    const key = base32Decode(secret);
    const wrong = await staff.put('/api/v1/me/totp', {
      secret,
      code: totp(key, Date.now() + 5 * 60_000),
      currentPassword: staff.password,
    });
    expect(wrong.status).toBe(400);
    const on = await staff.put('/api/v1/me/totp', {
      secret,
      code: totp(key, Date.now()),
      currentPassword: staff.password,
    });
    expect(on.status).toBe(204);
    return { staff, key };
  }

  it('asks for the code after the right password, takes a right code once, and refuses a wrong one', async () => {
    const { staff, key } = await withTotp();
    const noCode = await browser(anju, '127.0.3.1').signIn(staff.username, staff.password);
    expect(noCode.status).toBe(401);
    expect(await json(noCode)).toMatchObject({ type: 'urn:anju:problem:second-factor-required' });
    const tab = browser(anju, '127.0.3.1');
    const bad = await tab.request('POST', '/api/v1/session', {
      username: staff.username,
      password: staff.password,
      code: String((Number(totp(key, Date.now())) + 1) % 1_000_000).padStart(6, '0'),
    });
    expect(bad.status).toBe(401);
    // The code used to turn the factor on is spent; wait for the next step's code rather than reuse it.
    const step = Math.floor(Date.now() / 30_000);
    const next = totp(key, (step + 1) * 30_000);
    const ok = await tab.request('POST', '/api/v1/session', {
      username: staff.username,
      password: staff.password,
      code: next,
    });
    expect(ok.status).toBe(200);
    const again = await browser(anju, '127.0.3.2').request('POST', '/api/v1/session', {
      username: staff.username,
      password: staff.password,
      code: next,
    });
    expect(again.status).toBe(401);
    // The wrong password with a right code is still the wrong password.
    const wrongPassword = await browser(anju, '127.0.3.3').request('POST', '/api/v1/session', {
      username: staff.username,
      password: 'not-the-password',
      code: totp(key, (step + 1) * 30_000),
    });
    expect(wrongPassword.status).toBe(401);
    expect(await json(wrongPassword)).toMatchObject({ type: 'about:blank' });
  });

  it('lets a right password and code through an account back-off that guessers caused', async () => {
    const { staff, key } = await withTotp();
    for (let i = 0; i < 10; i++) await browser(anju, `127.0.4.${i + 1}`).signIn(staff.username, 'guess-' + i);
    expect((await browser(anju, '127.0.5.1').signIn(staff.username, staff.password)).status).toBe(429);
    const step = Math.floor(Date.now() / 30_000);
    const res = await browser(anju, '127.0.5.1').request('POST', '/api/v1/session', {
      username: staff.username,
      password: staff.password,
      code: totp(key, (step + 1) * 30_000),
    });
    expect(res.status).toBe(200);
  });

  it('is turned off by its owner with the password, or by an admin for a lost phone; family cannot turn it on', async () => {
    const { staff } = await withTotp();
    expect(
      (await staff.request('DELETE', '/api/v1/me/totp', { currentPassword: 'wrong-one-here' })).status,
    ).toBe(403);
    const admin = browser(anju);
    await admin.signIn('admin', ADMIN_PASSWORD);
    expect((await admin.request('DELETE', `/api/v1/users/${staff.userId}/totp`)).status).toBe(204);
    expect((await browser(anju, '127.0.6.1').signIn(staff.username, staff.password)).status).toBe(200);
    const family = await signedIn(anju, 'family', {
      residents: [(await addCommunity(anju, 'TOTP')).residents[0]!.id],
    });
    expect((await family.post('/api/v1/me/totp/setup')).status).toBe(403);
  });
});
