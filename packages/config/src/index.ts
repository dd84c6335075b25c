import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's schema. The message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly issues: { variable: string; problem: string }[],
  ) {
    super(
      `${service}: invalid configuration\n${issues.map((i) => `  ${i.variable}: ${i.problem}`).join('\n')}`,
    );
  }
}

/**
 * Validates `env` against `schema` once, at start. Services call this from their `env.ts` and nowhere
 * else, so every variable a service reads is named in one schema.
 */
export function parseEnv<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  // Empty strings mean "unset" for every variable: `FOO= npm start` should behave like no FOO at all.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    service,
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      problem: issue.message,
    })),
  );
}

/** Reusable field types for env schemas. */
export const envFields = {
  port: (fallback?: number) => {
    const base = z.coerce.number().int().min(0).max(65535);
    return fallback === undefined ? base : base.default(fallback);
  },
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  url: () => z.url({ protocol: /^https?$/ }),
  postgresUrl: () => z.url({ protocol: /^postgres(ql)?$/ }),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A comma-separated list of URLs. */
  urlList: () =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ protocol: /^https?$/ }))),
};

export { z };

/**
 * For `main.ts`: load the configuration, or print the problems (no stack trace) and exit with
 * EX_CONFIG (78). Supervisors and humans then see exactly which variable is wrong.
 */
export function loadConfigOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
}
