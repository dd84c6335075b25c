import { supabase } from './supabase.ts';

/** An API error, as the gateway's envelope `{error: {code, message, requestId, details?}}` says. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
    readonly requestId?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /**
   * The form field an error concerns: a zod issue's path (`settings.X`, `name`), or a setting named in
   * Postgres' message (`setting X …`, `settings.X …`, `secret X …`).
   */
  get field(): string | undefined {
    const issues = (this.details as { issues?: { path: string[] }[] } | undefined)?.issues;
    const path = issues?.[0]?.path;
    if (path?.length) return ['settings', 'secrets'].includes(path[0]!) ? path[1] : path[0];
    return /\b(?:settings?|secrets?)[. ]"?([A-Za-z_][A-Za-z0-9_]*)/.exec(this.message)?.[1];
  }
}

export const UNREACHABLE = 'Switchboard cannot be reached. Check your connection and try again.';

/** Raised when the session is gone for good; the app sends the person to sign in. */
export const SESSION_ENDED = 'session_ended';

async function send(url: string, init: RequestInit, token: string | undefined): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  try {
    return await fetch(url, { ...init, headers });
  } catch {
    throw new ApiError('unreachable', UNREACHABLE);
  }
}

/**
 * A call with the signed-in user's token. A 401 refreshes the session once and retries; if that
 * fails too the session has ended (signed out elsewhere, or expired while the tab slept).
 */
export async function authorizedFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const { data } = await supabase.auth.getSession();
  let res = await send(url, init, data.session?.access_token);
  if (res.status !== 401 || !data.session) return res;
  const refreshed = await supabase.auth.refreshSession();
  if (!refreshed.data.session) {
    await supabase.auth.signOut({ scope: 'local' });
    throw new ApiError(SESSION_ENDED, 'Your session has ended: sign in again.', 401);
  }
  res = await send(url, init, refreshed.data.session.access_token);
  return res;
}

export async function errorFrom(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string; requestId?: string; details?: unknown } }
    | undefined;
  const e = body?.error;
  if (e?.code && e.message) return new ApiError(e.code, e.message, res.status, e.requestId, e.details);
  if (res.status >= 500)
    return new ApiError('unavailable', 'Switchboard is having trouble. Try again shortly.', res.status);
  return new ApiError('http_error', `The request failed (${res.status}).`, res.status);
}

/** `/api/v1` with JSON in and out. */
export async function api<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await authorizedFetch(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    ...(init.body === undefined
      ? {}
      : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
  });
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
