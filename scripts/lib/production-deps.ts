/**
 * Where `npm ci --omit=dev` starts (the image's production-deps stage): the root and every workspace,
 * each with its `dependencies`; a workspace needed only by tests keeps its packages in
 * `devDependencies`, or a production install would carry them.
 */
export function installRoots(lock: { packages: Record<string, unknown> }): string[] {
  return ['', ...Object.keys(lock.packages).filter((k) => k !== '' && !k.includes('node_modules/'))];
}

/** Files the bundles read at run time beside their source modules; the image copies each. */
export const RUNTIME_FILES = [
  'services/console/dist',
  'services/worker/src/backends/orphan-guard.cjs',
  'supabase/migrations',
  'supabase/seed.sql',
];
