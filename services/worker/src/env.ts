import path from 'node:path';
import { envFields, parseEnv, z } from '@switchboard/config';

export const workerEnvSchema = z
  .object({
    /** 0 = any free port (the supervisor learns which from the worker's "listening" message). */
    PORT: envFields.port(0),
    /** Workers take calls from gateways only: loopback or the internal network, never a public interface. */
    HOST: z.string().default('127.0.0.1'),
    /** The worker's own login (role switchboard_worker): it can resolve credentials and nothing else. */
    DATABASE_URL: envFields.postgresUrl(),
    /**
     * A direct (or session-mode pooler) connection for what a transaction-mode pooler breaks: LISTEN for
     * change notifications and session advisory locks. Defaults to DATABASE_URL; set it when DATABASE_URL
     * goes through Supavisor's transaction mode (port 6543) or PgBouncer with pool_mode=transaction.
     */
    DATABASE_DIRECT_URL: envFields.postgresUrl().optional(),
    /** Shared with the gateways: signs the internal hop. */
    SWITCHBOARD_INTERNAL_SECRET: z.string().min(32),
    SWITCHBOARD_DATA_DIR: z.string().default('.switchboard'),
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: envFields.bool(false),
    /** How this worker is reached by gateways (its id in routing); defaults to http://HOST:PORT. */
    WORKER_URL: envFields.url().optional(),
    /** Live stdio processes per worker; beyond it the least recently used is stopped. */
    WORKER_MAX_PROCESSES: z.coerce.number().int().min(1).default(200),
    /** Live stdio processes one user may have on a worker (fairness). */
    WORKER_MAX_PROCESSES_PER_USER: z.coerce.number().int().min(1).default(10),
    /** Calls one user may have in flight on a worker (fairness); more wait their turn in the user's line. */
    WORKER_MAX_CALLS_PER_USER: z.coerce.number().int().min(1).default(32),
    /** Calls in flight on a worker across all users; beyond it, freed slots go to waiting users in turn. */
    WORKER_MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).default(256),
    /** Calls one user may have waiting on a worker; beyond it a call is refused with a retryable error. */
    WORKER_MAX_WAITING_CALLS_PER_USER: z.coerce.number().int().min(1).default(1000),
    /** How long an open circuit refuses a failing backend before a trial call (doubling on each failed trial). */
    WORKER_CIRCUIT_COOLDOWN_SECONDS: z.coerce.number().min(0.1).max(300).default(1),
    /**
     * `bwrap`: each stdio server runs in a bubblewrap sandbox (a worker that cannot sandbox refuses to
     * start stdio servers and says why); `off`: unsandboxed, as the worker (logged as a warning).
     */
    WORKER_SANDBOX: z.enum(['bwrap', 'off']).default('bwrap'),
    /** How often live remote and GraphQL backends are probed, so their health moves without calls. */
    WORKER_PROBE_INTERVAL_SECONDS: z.coerce.number().min(1).max(3600).default(30),
    /** A stdio process idle this long is stopped. */
    WORKER_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(600),
    /** Default deadline of a call, unless the catalog entry sets spec.timeout_ms. */
    WORKER_CALL_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** How long resolved credentials are kept (at most 30 s; NOTIFY drops them sooner). */
    /** The gateway's public URL: errors asking a user to connect an account name the console page. */
    SWITCHBOARD_PUBLIC_URL: envFields.url().optional(),
    WORKER_CREDENTIAL_TTL_SECONDS: z.coerce.number().int().min(0).max(30).default(30),
    /** Largest response an openapi tool reads from an upstream API. */
    WORKER_MAX_RESPONSE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    /** Ship logs there (stdout logging never stops). */
    ELASTICSEARCH_URL: envFields.url().optional(),
    LOG_LEVEL: envFields.logLevel(),
    /** Audit events are logged (for Elasticsearch) at this level, whatever LOG_LEVEL says. */
    AUDIT_LOG_LEVEL: envFields.logLevel(),
  })
  .transform((env) => ({ ...env, SWITCHBOARD_DATA_DIR: path.resolve(env.SWITCHBOARD_DATA_DIR) }));

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function loadWorkerEnv(env: Record<string, string | undefined>): WorkerEnv {
  return parseEnv('worker', workerEnvSchema, env);
}
