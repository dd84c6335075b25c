import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { BackendStartError } from './start-error.ts';

const run = promisify(execFile);

export interface ResolvedBin {
  /** The script to run with Node. */
  script: string;
  /** Where it was found: an install already on disk, or one made just now. */
  source: 'preinstalled' | 'cache' | 'installed';
}

interface PackageJson {
  name: string;
  version: string;
  bin?: string | Record<string, string>;
}

/**
 * MCP servers from npm at their pinned versions. A package is used where it is already installed (the
 * project's node_modules, or this cache), else installed into `<cache>/<name>@<version>` once: concurrent
 * first uses share one install, and installs land atomically (temp dir, then rename) so two workers
 * sharing the cache never see half an install. Install scripts are not run.
 */
export class PackageCache {
  private readonly installing = new Map<string, Promise<ResolvedBin>>();

  constructor(
    private readonly cacheDir: string,
    private readonly preinstalledRoots: string[],
    private readonly logger: Logger,
    private readonly onInstall?: (outcome: 'success' | 'failure', seconds: number) => void,
  ) {}

  async resolve(pkg: string, version: string, bin?: string): Promise<ResolvedBin> {
    for (const root of this.preinstalledRoots) {
      const found = await this.binIn(path.join(root, 'node_modules', pkg), version, bin);
      if (found) return { script: found, source: 'preinstalled' };
    }
    const dir = this.installDir(pkg, version);
    const cached = await this.binIn(path.join(dir, 'node_modules', pkg), version, bin);
    if (cached) return { script: cached, source: 'cache' };
    const key = `${pkg}@${version}`;
    let pending = this.installing.get(key);
    if (!pending) {
      pending = this.install(pkg, version, bin).finally(() => this.installing.delete(key));
      this.installing.set(key, pending);
    }
    return pending;
  }

  private installDir(pkg: string, version: string): string {
    return path.join(this.cacheDir, `${pkg.replace('/', '+')}@${version}`);
  }

  private async install(pkg: string, version: string, bin?: string): Promise<ResolvedBin> {
    const started = Date.now();
    await mkdir(this.cacheDir, { recursive: true });
    const tmp = await mkdtemp(path.join(this.cacheDir, '.install-'));
    try {
      this.logger.info({ package: pkg, version }, 'installing MCP server package');
      await run(
        'npm',
        [
          'install',
          '--prefix',
          tmp,
          '--no-save',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          '--omit=dev',
          '--loglevel=error',
          `${pkg}@${version}`,
        ],
        {
          timeout: 300_000,
          maxBuffer: 10 * 1024 * 1024,
          env: { ...process.env, npm_config_update_notifier: 'false' },
        },
      );
      const final = this.installDir(pkg, version);
      await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
        // Another worker finished the same install first: use theirs.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
      const script = await this.binIn(path.join(final, 'node_modules', pkg), version, bin);
      if (!script) throw new Error(`${pkg}@${version} has no executable${bin ? ` named ${bin}` : ''}`);
      this.onInstall?.('success', (Date.now() - started) / 1000);
      return { script, source: 'installed' };
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      this.onInstall?.('failure', (Date.now() - started) / 1000);
      const detail =
        (err as { stderr?: string }).stderr?.split('\n').find((l) => l.includes('ERR')) ??
        (err as Error).message;
      this.logger.error({ package: pkg, version, detail }, 'package install failed');
      throw new BackendStartError('did_not_start', `could not install ${pkg}@${version}`);
    }
  }

  /** The package's executable script, if the package is at `dir` in exactly this version. */
  private async binIn(dir: string, version: string, bin?: string): Promise<string | undefined> {
    let manifest: PackageJson;
    try {
      manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    } catch {
      return undefined;
    }
    if (manifest.version !== version) return undefined;
    const bins =
      typeof manifest.bin === 'string'
        ? { [manifest.name.split('/').pop()!]: manifest.bin }
        : (manifest.bin ?? {});
    const entries = Object.entries(bins);
    const chosen = bin
      ? bins[bin]
      : entries.length === 1
        ? entries[0]![1]
        : (bins[manifest.name.split('/').pop()!] ?? entries[0]?.[1]);
    return chosen ? path.join(dir, chosen) : undefined;
  }
}
