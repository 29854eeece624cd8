// Who is logged in. The cookie is the session; this keeps the user and the CSRF token the API needs, and
// sends the browser to the login page when the server forgets the session.
import { ref } from 'vue';
import { api, ApiError, setCsrfToken, setUnauthorizedHandler } from './api.ts';
import { setLocale } from './i18n/index.ts';
import { LOCALE_STORAGE_KEY } from './i18n/pick.ts';
import { navigate } from './router.ts';
import type { SessionInfo, SessionUser } from './types.ts';

export const user = ref<SessionUser | null>(null);
/** False until the first GET /api/v1/session has answered, so pages do not flash the login form. */
export const sessionChecked = ref(false);

function adopt(info: SessionInfo | null): void {
  user.value = info?.user ?? null;
  setCsrfToken(info?.csrfToken ?? null);
}

export async function loadSession(): Promise<void> {
  try {
    adopt(await api.get<SessionInfo>('/api/v1/session'));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) throw err;
    adopt(null);
  } finally {
    sessionChecked.value = true;
  }
}

/** The server's answer when the password was right and the account also wants a one-time code. */
export const SECOND_FACTOR_REQUIRED = 'urn:anju:problem:second-factor-required';

export async function login(username: string, password: string, code?: string): Promise<SessionUser> {
  const info = await api.post<SessionInfo>('/api/v1/session', {
    username,
    password,
    ...(code ? { code } : {}),
  });
  adopt(info);
  // The language the user chose in the browser wins; a first visit takes the account's.
  if (!localStorage.getItem(LOCALE_STORAGE_KEY)) setLocale(info.user.language);
  return info.user;
}

export async function logout(): Promise<void> {
  try {
    await api.del('/api/v1/session');
  } finally {
    adopt(null);
    navigate('/login');
  }
}

/** Where each role starts. */
export function homePathFor(u: SessionUser): string {
  return u.role === 'family' ? '/family' : '/console';
}

setUnauthorizedHandler(() => {
  adopt(null);
  navigate('/login', true);
});
