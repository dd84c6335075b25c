import path from 'node:path';
import { envFields, parseEnv, z } from '@switchboard/config';

/** What `npm start` reads. Names and defaults are the public contract in API.md. */
export const stackEnvSchema = z
  .object({
    SWITCHBOARD_PORT: envFields.port(8080),
    SWITCHBOARD_HOST: z.string().default('127.0.0.1'),
    SWITCHBOARD_DATA_DIR: z.string().default('.switchboard'),
    SWITCHBOARD_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
    SWITCHBOARD_GATEWAYS: z.coerce.number().int().min(1).max(64).default(1),
    SWITCHBOARD_PUBLIC_URL: envFields.url().optional(),
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: envFields.bool(false),
    /** Run the services from `dist/` (`npm run build`) with plain node instead of from source through tsx. */
    SWITCHBOARD_COMPILED: envFields.bool(false),
    /** Write a V8 CPU profile of each service into this directory when it stops (`npm run bench:profile`). */
    SWITCHBOARD_CPU_PROFILE_DIR: z.string().min(1).optional(),
    SUPABASE_JWT_SECRET: z.string().min(32).optional(),
    ELASTICSEARCH_URL: envFields.url().optional(),
    LOG_LEVEL: envFields.logLevel(),
    AUDIT_LOG_LEVEL: envFields.logLevel(),
  })
  .transform((env) => ({
    ...env,
    SWITCHBOARD_DATA_DIR: path.resolve(env.SWITCHBOARD_DATA_DIR),
    SWITCHBOARD_PUBLIC_URL: (
      env.SWITCHBOARD_PUBLIC_URL ?? `http://localhost:${env.SWITCHBOARD_PORT}`
    ).replace(/\/$/, ''),
  }));

export type StackEnv = z.infer<typeof stackEnvSchema>;

export function loadStackEnv(env: Record<string, string | undefined>): StackEnv {
  return parseEnv('switchboard', stackEnvSchema, env);
}
