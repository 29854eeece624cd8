// Behind a TLS-terminating reverse proxy the session cookie must still be Secure, but only when the
// operator said which proxy to believe: anyone can send X-Forwarded-Proto.
import { describe, expect, it } from 'vitest';
import { startTestApp } from './test-app.ts';
import { ADMIN_PASSWORD, browser } from './test-support.ts';

async function signInCookie(trustProxy?: string): Promise<string> {
  const anju = await startTestApp(trustProxy ? { trustProxy: [trustProxy] } : {});
  try {
    const res = await browser(anju).request(
      'POST',
      '/api/v1/session',
      { username: 'admin', password: ADMIN_PASSWORD },
      { headers: { 'x-forwarded-proto': 'https' } },
    );
    expect(res.status).toBe(200);
    return res.headers.get('set-cookie') ?? '';
  } finally {
    await anju.stop();
  }
}

describe('session cookie behind a proxy', () => {
  it('is Secure when a trusted proxy forwards https', async () => {
    expect(await signInCookie('127.0.0.1')).toMatch(/;\s*Secure/i);
  });

  it('ignores X-Forwarded-Proto from a client that is not a trusted proxy', async () => {
    expect(await signInCookie()).not.toMatch(/;\s*Secure/i);
  });
});
