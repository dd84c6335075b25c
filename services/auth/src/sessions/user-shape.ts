/** The `auth.users` columns local auth reads. */
export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone: string | null;
  confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
}

export const USER_COLUMNS = `id, aud, role, email, encrypted_password, email_confirmed_at, phone, confirmed_at,
  last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, banned_until, deleted_at, is_anonymous`;

/** The user object as Supabase Auth serialises it (what `supabase.auth.getUser()` returns). */
export function toUserJson(u: UserRow) {
  return {
    id: u.id,
    aud: u.aud ?? 'authenticated',
    role: u.role ?? 'authenticated',
    email: u.email ?? '',
    email_confirmed_at: u.email_confirmed_at?.toISOString(),
    phone: u.phone ?? '',
    confirmed_at: u.confirmed_at?.toISOString(),
    last_sign_in_at: u.last_sign_in_at?.toISOString(),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [
      {
        identity_id: u.id,
        id: u.id,
        user_id: u.id,
        identity_data: { email: u.email, email_verified: true, phone_verified: false, sub: u.id },
        provider: 'email',
        last_sign_in_at: u.last_sign_in_at?.toISOString(),
        created_at: u.created_at.toISOString(),
        updated_at: u.updated_at.toISOString(),
        email: u.email,
      },
    ],
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
    is_anonymous: u.is_anonymous,
  };
}

export type UserJson = ReturnType<typeof toUserJson>;
