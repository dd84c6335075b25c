import { envFields, parseEnv, z } from '@switchboard/config';

export const workerEnvSchema = z.object({
  /** 0 = any free port (the supervisor learns which from the worker's "listening" message). */
  PORT: envFields.port(0),
  /** Workers take calls from gateways only: loopback or the internal network, never a public interface. */
  HOST: z.string().default('127.0.0.1'),
  /** The worker's own login (role switchboard_worker). */
  DATABASE_URL: envFields.postgresUrl(),
  SWITCHBOARD_DATA_DIR: z.string().default('.switchboard'),
  LOG_LEVEL: envFields.logLevel(),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export function loadWorkerEnv(env: Record<string, string | undefined>): WorkerEnv {
  return parseEnv('worker', workerEnvSchema, env);
}
