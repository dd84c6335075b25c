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
  'services/gateway/src/consent/consent-page.js',
  'services/worker/src/backends/orphan-guard.cjs',
  'supabase/migrations',
  'supabase/seed.sql',
];

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  link?: boolean;
  resolved?: string;
}

/**
 * The package names a production install of `workspaces` puts on disk, read from package-lock.json
 * the way npm resolves them: each dependency from the nearest `node_modules` up the tree, workspace
 * links followed to their folder, dev dependencies of the workspaces themselves left out.
 */
export function productionClosure(
  lock: { packages: Record<string, LockEntry> },
  workspaces: string[],
): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>();
  const queue = [...workspaces];
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = parentDir(dir)) {
      const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (!dir) return undefined;
    }
  };
  while (queue.length) {
    const location = queue.shift()!;
    if (seen.has(location)) continue;
    seen.add(location);
    const entry = lock.packages[location];
    if (!entry) throw new Error(`package-lock.json has no ${location}`);
    if (entry.link && entry.resolved) {
      queue.push(entry.resolved);
      continue;
    }
    const optionalPeers = new Set(
      Object.entries(entry.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    );
    const wanted = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n)),
    ];
    for (const name of wanted) {
      const found = resolve(location, name);
      if (!found) {
        if (entry.optionalDependencies?.[name]) continue; // another platform's binary
        throw new Error(`${location} needs ${name}, which package-lock.json does not hold`);
      }
      names.add(name);
      queue.push(found);
    }
  }
  return names;
}

/** `a/node_modules/b/node_modules/c` → `a/node_modules/b`; a workspace folder → the root (''). */
function parentDir(location: string): string {
  const i = location.lastIndexOf('/node_modules/');
  if (i >= 0) return location.slice(0, i);
  return '';
}
