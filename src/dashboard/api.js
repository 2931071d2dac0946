/**
 * The admin API as the page calls it: same origin, `Authorization: Bearer` when a token is stored in
 * `sessionStorage` (asked once, forgotten when the tab closes). A 401 throws {@link AuthError} so the
 * page can ask for the token again.
 */

const TOKEN_KEY = 'shoal.adminToken';

export class AuthError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'AuthError';
    this.status = status;
    this.code = code;
  }
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code ?? status}: ${message}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** `await api('/admin/status')`, `await api('/admin/dsm/pause', { method: 'POST' })`; JSON in and out. */
export async function api(path, { method = 'GET', body, timeoutMs = 10_000 } = {}) {
  const headers = {};
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401 || res.status === 403) throw new AuthError(res.status, json?.code, json?.message ?? text);
  if (!res.ok) throw new ApiError(res.status, json?.code, json?.message ?? text);
  return json;
}
