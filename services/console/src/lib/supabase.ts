import { createClient } from '@supabase/supabase-js';
import { config } from './config.ts';

/**
 * Supabase Auth: local auth in embedded mode, GoTrue in the full stack; the same client for both.
 * The session persists in this browser and refreshes itself before it expires.
 */
export const supabase = createClient(config.supabaseUrl, config.anonKey, {
  auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: 'implicit' },
});

export async function accessToken(): Promise<string | undefined> {
  const { data } = await supabase.auth.getSession();
  return data.session?.access_token;
}

/** Auth errors in words a person acts on. */
export function authMessage(error: {
  code?: string | undefined;
  status?: number | undefined;
  message: string;
}): string {
  if (
    error.status === 429 ||
    error.code === 'over_request_rate_limit' ||
    error.code === 'over_email_send_rate_limit'
  )
    return 'Too many attempts. Wait a minute, then try again.';
  switch (error.code) {
    case 'invalid_credentials':
      return 'That email and password do not match an account.';
    case 'weak_password':
      return `That password is too weak: ${error.message}`;
    case 'user_already_exists':
    case 'email_exists':
      return 'An account with that email already exists. Sign in instead.';
    case 'email_address_invalid':
    case 'validation_failed':
      return `Check the email address: ${error.message}`;
    case 'same_password':
      return 'The new password must differ from the old one.';
  }
  if (error.status === 0 || /fetch|network/i.test(error.message))
    return 'Switchboard cannot be reached. Check your connection and try again.';
  return error.message;
}
