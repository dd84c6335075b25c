import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every workspace's tests and the SQL-level tests in one run, against one embedded
 * PostgreSQL started by the global setup (each test file clones its own database from a template).
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    globalSetup: ['packages/testing/src/global-setup.ts', 'scripts/build-global-setup.ts'],
    include: [
      '{packages,services}/*/src/**/*.test.ts',
      'supabase/tests/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    pool: 'forks',
    // Generous: these bound hangs, not speed (a loaded machine must not fail a test; timing is bench/'s).
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 20_000,
  },
});
