/**
 * Builds the console with Vite into `services/console/dist/`, which the gateway serves at `/`.
 * `npm start`, `npm run build` and the test run call `ensureConsoleBuilt()`: it builds only when a
 * source file is newer than the last build, so a fresh clone needs no separate step.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const CONSOLE_ROOT = fileURLToPath(new URL('.', import.meta.url));
export const CONSOLE_DIST = path.join(CONSOLE_ROOT, 'dist');
const INPUTS = ['src', 'index.html', 'vite.config.ts', 'package.json'];

function newest(p: string): number {
  const s = statSync(p, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(path.join(p, f))));
}

export function consoleIsStale(): boolean {
  const built = statSync(path.join(CONSOLE_DIST, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return Math.max(...INPUTS.map((f) => newest(path.join(CONSOLE_ROOT, f)))) > built.mtimeMs;
}

export async function buildConsole(): Promise<void> {
  // Vite takes NODE_ENV from the environment when it is set (a test runner sets `test`), and React
  // then ships its development build: twice the effects, a larger bundle. A console is always built
  // for production.
  const inherited = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(CONSOLE_ROOT, 'vite.config.ts'), root: CONSOLE_ROOT });
  } finally {
    if (inherited === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = inherited;
  }
}

/** Builds when stale; returns whether it built. */
export async function ensureConsoleBuilt(): Promise<boolean> {
  if (!consoleIsStale()) return false;
  await buildConsole();
  return true;
}
