import { envFields, parseEnv, z } from '@switchboard/config';

export const gatewayEnvSchema = z
  .object({
    SWITCHBOARD_PORT: envFields.port(8080),
    SWITCHBOARD_HOST: z.string().default('127.0.0.1'),
    SWITCHBOARD_PUBLIC_URL: envFields.url().optional(),
    /** The gateway's own login (role switchboard_gateway), never a superuser. */
    DATABASE_URL: envFields.postgresUrl(),
    /**
     * A direct (or session-mode pooler) connection for what a transaction-mode pooler breaks: LISTEN for
     * change notifications and session advisory locks. Defaults to DATABASE_URL; set it when DATABASE_URL
     * goes through Supavisor's transaction mode (port 6543) or PgBouncer with pool_mode=transaction.
     */
    DATABASE_DIRECT_URL: envFields.postgresUrl().optional(),
    /** Workers to route to (compose/Kubernetes: a static list; embedded: the supervisor passes it). */
    SWITCHBOARD_WORKER_URLS: envFields.urlList().default([]),
    /** Instead of a list: `host:port` whose every DNS address is a worker (compose scaling, K8s headless). */
    SWITCHBOARD_WORKER_DNS: z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d+$/, 'must be host:port')
      .optional(),
    /** Embedded mode: where local auth listens; `/auth/v1/*` is forwarded there. Unset on real Supabase. */
    SWITCHBOARD_AUTH_URL: envFields.url().optional(),
    SUPABASE_URL: envFields.url().optional(),
    /** Where the JWKS is fetched; defaults to `<SUPABASE_URL>/auth/v1/.well-known/jwks.json`. */
    SUPABASE_JWKS_URL: envFields.url().optional(),
    SUPABASE_JWT_SECRET: z.string().min(32).optional(),
    /** The project's publishable (anon) key, handed to the gateway's pages (the OAuth consent page). */
    SUPABASE_ANON_KEY: z.string().optional(),
    /** Shared with the workers: signs the internal hop. */
    SWITCHBOARD_INTERNAL_SECRET: z.string().min(32),
    /** Hostnames besides the public URL's and loopback that MCP requests may name in Host/Origin. */
    SWITCHBOARD_ALLOWED_HOSTS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean),
      ),
    /**
     * How long a live check of an installation may take when its spec sets no `timeout_ms`: starting
     * it (an npm install on first use) and listing its tools. Match the workers' call timeout.
     */
    GATEWAY_CHECK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
    /**
     * Upstream sign-in (discovery, registration, tokens) may reach private and loopback addresses. The
     * workers have the same switch for calls; set both alike.
     */
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: envFields.bool(false),
    /**
     * Switchboard's Client ID Metadata Document, where services that support them fetch it: an https
     * URL. Defaults to `<public url>/oauth/client-metadata.json` when the public URL is https; unset on
     * plain http (services then get dynamic registration).
     */
    SWITCHBOARD_OAUTH_CLIENT_METADATA_URL: envFields.url().optional(),
    ELASTICSEARCH_URL: envFields.url().optional(),
    LOG_LEVEL: envFields.logLevel(),
    /** Audit events are logged (for Elasticsearch) at this level, whatever LOG_LEVEL says. */
    AUDIT_LOG_LEVEL: envFields.logLevel(),
  })
  .transform((env) => {
    const publicUrl = (env.SWITCHBOARD_PUBLIC_URL ?? `http://localhost:${env.SWITCHBOARD_PORT}`).replace(
      /\/$/,
      '',
    );
    return {
      ...env,
      SWITCHBOARD_PUBLIC_URL: publicUrl,
      SUPABASE_URL: (env.SUPABASE_URL ?? publicUrl).replace(/\/$/, ''),
      SWITCHBOARD_OAUTH_CLIENT_METADATA_URL:
        env.SWITCHBOARD_OAUTH_CLIENT_METADATA_URL ??
        (publicUrl.startsWith('https:') ? `${publicUrl}/oauth/client-metadata.json` : undefined),
    };
  });

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function loadGatewayEnv(env: Record<string, string | undefined>): GatewayEnv {
  return parseEnv('gateway', gatewayEnvSchema, env);
}
