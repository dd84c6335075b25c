import { envFields, parseEnv, z } from '@switchboard/config';

export const authEnvSchema = z.object({
  PORT: envFields.port(0),
  HOST: z.string().default('127.0.0.1'),
  /** Local auth's login (role supabase_auth_admin, as GoTrue on Supabase). */
  DATABASE_URL: envFields.postgresUrl(),
  /** Where clients reach the gateway; tokens are issued by `<public url>/auth/v1`. */
  SWITCHBOARD_PUBLIC_URL: envFields.url(),
  SWITCHBOARD_DATA_DIR: z.string().default('.switchboard'),
  LOG_LEVEL: envFields.logLevel(),
});

export type AuthEnv = z.infer<typeof authEnvSchema>;

export function loadAuthEnv(env: Record<string, string | undefined>): AuthEnv {
  return parseEnv('auth', authEnvSchema, env);
}
