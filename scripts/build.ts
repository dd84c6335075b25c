/**
 * The production build: each service (and the migration job) bundled by esbuild into one ES module
 * under `dist/`, run with plain `node` and production dependencies only.
 *
 * Why a bundler rather than tsc: the internal packages are consumed as TypeScript source (their
 * `exports` name `src/*.ts`), so tsc would need a second, compiled export map in every package and a
 * custom condition in every tool that reads them. esbuild resolves `@switchboard/*` to that source and
 * inlines it (type-checking stays with `npm run check`); third-party packages stay external and load
 * from `node_modules`, as installed by `npm ci --omit=dev`. One file per service also starts faster
 * than hundreds of small modules resolved one by one.
 *
 *   npm run build            # writes dist/{gateway,worker,auth,migrate,healthcheck}.js and dist/meta.json,
 *                            # and the web console (services/console/dist, built by Vite)
 */

import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildConsole } from '@switchboard/console/build';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(ROOT, 'dist');

/** What is built: an output name per entry point. */
export const ENTRIES: Record<string, string> = {
  gateway: 'services/gateway/src/main.ts',
  worker: 'services/worker/src/main.ts',
  auth: 'services/auth/src/main.ts',
  migrate: 'scripts/migrate.ts',
  healthcheck: 'scripts/healthcheck.ts',
};

/** Workspace packages are bundled from source; every other bare import loads from node_modules. */
const externalThirdParty: Plugin = {
  name: 'external-third-party',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@switchboard/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Keeps `import.meta.url` meaning the source file's URL inside the bundle. Modules find files beside
 * them with it (the consent page's script, the orphan guard, `supabase/migrations`), and the image
 * ships those files where the source tree has them; the bundle's own URL would point elsewhere.
 */
const sourceImportMetaUrl: Plugin = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const relative = path.relative(DIST, args.path).split(path.sep).join('/');
      return {
        contents: source.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(relative)}, import.meta.url).href`,
        ),
        loader: 'ts',
      };
    });
  },
};

export async function buildServices(): Promise<Metafile> {
  await rm(DIST, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRIES,
    outdir: DIST,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [externalThirdParty, sourceImportMetaUrl],
  });
  await writeFile(path.join(DIST, 'meta.json'), JSON.stringify(result.metafile));
  return result.metafile;
}

/** The packages a bundle imports from node_modules (`pkg` or `@scope/pkg`), per output file. */
export function externalPackages(meta: Metafile): Map<string, Set<string>> {
  const byOutput = new Map<string, Set<string>>();
  for (const [file, output] of Object.entries(meta.outputs)) {
    if (!file.endsWith('.js')) continue;
    const names = new Set<string>();
    for (const imp of output.imports) {
      if (!imp.external || imp.path.startsWith('node:')) continue;
      const parts = imp.path.split('/');
      names.add(imp.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
    byOutput.set(path.basename(file, '.js'), names);
  }
  return byOutput;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const meta = await buildServices();
  await buildConsole();
  console.log('services/console/dist  the web console');
  for (const [name, packages] of externalPackages(meta)) {
    const bytes = meta.outputs[`dist/${name}.js`]?.bytes ?? 0;
    console.log(
      `dist/${name}.js  ${(bytes / 1024).toFixed(0)} KiB  imports ${[...packages].sort().join(', ')}`,
    );
  }
}
