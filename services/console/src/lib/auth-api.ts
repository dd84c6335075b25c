import { ApiError, authorizedFetch } from './api.ts';
import { config } from './config.ts';

/**
 * Supabase Auth's OAuth-server routes that supabase-js has no method for (the consent API and the
 * user's grants): the same routes on local auth and on GoTrue.
 */
export async function authApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { apikey: config.anonKey };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await authorizedFetch(`${config.supabaseUrl}/auth/v1${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const message =
      (body.msg as string) ||
      (body.message as string) ||
      (body.error_description as string) ||
      `The request failed (${res.status}).`;
    throw new ApiError(
      String(body.error_code ?? body.error ?? body.code ?? 'auth_error'),
      message,
      res.status,
    );
  }
  return body as T;
}
