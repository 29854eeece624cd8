// The one way the UI talks HTTP to Anju: JSON in and out, the session cookie sent by the browser, the CSRF
// token on every state-changing request, and RFC 9457 problem JSON turned into an ApiError.

/** A refused request: `status` drives what the page shows (401 login, 403 not allowed, 404 not found). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | null,
    /** Validation problems by field path, when the server lists them. */
    readonly errors: { path: string; message: string }[] = [],
    /** The problem type (RFC 9457), when the server names one a page acts on. */
    readonly type: string = 'about:blank',
  ) {
    super(detail ?? title);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 after login, i.e. the session expired or was revoked. */
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function problemOf(res: Response): Promise<ApiError> {
  let title = res.statusText || `HTTP ${res.status}`;
  let detail: string | null = null;
  let errors: { path: string; message: string }[] = [];
  let type = 'about:blank';
  try {
    const body = (await res.json()) as {
      title?: unknown;
      detail?: unknown;
      errors?: unknown;
      type?: unknown;
    };
    if (typeof body.type === 'string') type = body.type;
    if (typeof body.title === 'string') title = body.title;
    if (typeof body.detail === 'string') detail = body.detail;
    if (Array.isArray(body.errors)) errors = body.errors as typeof errors;
  } catch {
    // Not JSON (a proxy's error page, say): the status line is all there is.
  }
  return new ApiError(res.status, title, detail, errors, type);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const error = await problemOf(res);
    if (res.status === 401 && path !== '/api/v1/session') onUnauthorized?.();
    throw error;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Sends a file as the request body with its own content type (an image upload). */
export async function upload(path: string, file: Blob): Promise<void> {
  const headers: Record<string, string> = { 'content-type': file.type || 'application/octet-stream' };
  if (csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method: 'PUT', headers, credentials: 'same-origin', body: file });
  if (!res.ok) throw await problemOf(res);
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** Builds `path?k=v&...`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}
