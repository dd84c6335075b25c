import { describe, expect, it } from 'vitest';
import { ConfigError, envFields, parseEnv, z } from './index.ts';

const schema = z.object({
  PORT: envFields.port(8080),
  DATABASE_URL: envFields.postgresUrl(),
  DEBUG: envFields.bool(false),
  WORKERS: envFields.urlList().optional(),
});

describe('parseEnv', () => {
  it('applies defaults and coerces types', () => {
    const env = parseEnv('svc', schema, { DATABASE_URL: 'postgres://u@localhost:5432/db', DEBUG: 'yes' });
    expect(env).toEqual({ PORT: 8080, DATABASE_URL: 'postgres://u@localhost:5432/db', DEBUG: true });
  });

  it('treats empty strings as unset', () => {
    expect(parseEnv('svc', schema, { DATABASE_URL: 'postgres://h/db', PORT: '' }).PORT).toBe(8080);
  });

  it('names every bad variable in one error', () => {
    let caught: unknown;
    try {
      parseEnv('gateway', schema, { PORT: 'eighty', WORKERS: 'http://a:1,not a url' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['DATABASE_URL', 'PORT', 'WORKERS.1']);
    expect(error.message).toMatch(/^gateway: invalid configuration/);
    expect(error.message).toContain('PORT:');
  });

  it('refuses a non-postgres database URL', () => {
    expect(() => parseEnv('svc', schema, { DATABASE_URL: 'mysql://h/db' })).toThrow(/DATABASE_URL/);
  });
});
