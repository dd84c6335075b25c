import { envFields, parseEnv, z } from '@switchboard/config';

export const authEnvSchema = z.object({
  PORT: envFields.port(0),
  HOST: z.string().default('127.0.0.1'),
  /** Local auth's login (role supabase_auth_admin, as GoTrue on Supabase). */
  DATABASE_URL: envFields.postgresUrl(),
  /** Where clients reach the gateway; tokens are issued by `<public url>/auth/v1`. */
  SWITCHBOARD_PUBLIC_URL: envFields.url(),
  SWITCHBOARD_DATA_DIR: z.string().default('.switchboard'),
  /** The project's publishable key: requests other than health and JWKS must carry it as `apikey`. */
  SWITCHBOARD_ANON_KEY: z.string().min(16).optional(),
  /** Access-token lifetime in seconds (GoTrue's JWT_EXP). Revoked sessions' tokens live at most this long. */
  AUTH_JWT_EXPIRY: z.coerce.number().int().min(30).max(604_800).default(3600),
  AUTH_MIN_PASSWORD_LENGTH: z.coerce.number().int().min(6).max(72).default(6),
  /** Sign-in and sign-up attempts allowed per client address, and per email, in each window. */
  AUTH_RATE_LIMIT_PER_ADDRESS: z.coerce.number().int().min(1).default(30),
  AUTH_RATE_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  /** The app's OAuth consent page (receives `?authorization_id=`); default `<public url>/oauth/consent`. */
  AUTH_OAUTH_CONSENT_URL: envFields.url().optional(),
  /** Client registrations and authorize requests allowed per client address per minute. */
  AUTH_OAUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** Let Client ID Metadata Documents be fetched from private and loopback addresses (tests, labs). */
  SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: envFields.bool(false),
  /** Ship logs there (stdout logging never stops). */
  ELASTICSEARCH_URL: envFields.url().optional(),
  LOG_LEVEL: envFields.logLevel(),
  AUDIT_LOG_LEVEL: envFields.logLevel(),
});

export type AuthEnv = z.infer<typeof authEnvSchema>;

export function loadAuthEnv(env: Record<string, string | undefined>): AuthEnv {
  return parseEnv('auth', authEnvSchema, env);
}
