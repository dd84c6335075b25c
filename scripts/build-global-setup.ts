import { ensureConsoleBuilt } from '@switchboard/console/build';
import { buildServices } from './build.ts';

/**
 * The production build, once per test run and before any test file starts, so the tests that run the
 * compiled services (`scripts/stack-mcp.test.ts`, `scripts/production-build.test.ts`) read one `dist/`
 * that nothing rewrites under them. About a second of esbuild. The web console too, when its sources
 * changed, before any test serves it (the browser tests and the started stacks).
 */
export default async function setup(): Promise<void> {
  await buildServices();
  await ensureConsoleBuilt();
}
