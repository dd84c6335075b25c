import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { SecretMasker } from '@switchboard/observability';
import type { Logger } from 'pino';
import type { ResolvedInstallation } from '../credentials/resolver.ts';
import { Backend } from './backend.ts';
import { BACKEND_CLIENT_CAPABILITIES, BACKEND_CLIENT_INFO } from './client-info.ts';
import type { PackageCache } from './package-cache.ts';
import {
  DEFAULT_LIMITS,
  idFor,
  packagePaths,
  type Sandbox,
  type SandboxedProcess,
} from './sandbox/sandbox.ts';
import { BackendStartError } from './start-error.ts';
import { render, type TemplateValues } from './template.ts';

export interface StdioDeps {
  packages: PackageCache;
  /** Where each server runs: a bubblewrap sandbox (or as is, when the operator turned it off). */
  sandbox: Promise<Sandbox>;
  masker: SecretMasker;
  logger: Logger;
  dataDir: string;
  connectTimeoutMillis: number;
  onSpawn?: () => void;
  onExit?: (pid: number | null) => void;
}

interface StdioSpec {
  package?: string;
  version?: string;
  bin?: string;
  /** A local program (an absolute path) instead of an npm package; its directory is mounted read-only. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  resources?: { memory_mb?: number; cpu_percent?: number; pids?: number; open_files?: number };
  network?: 'none' | 'egress';
}

/** Makes the server exit when this worker is gone (see the file). */
const ORPHAN_GUARD = fileURLToPath(new URL('./orphan-guard.cjs', import.meta.url));

/**
 * Starts one MCP server from npm (or an operator's local command) for one user's installation: its own
 * sandboxed process, its settings and secrets as environment variables (and nothing of the worker's own
 * environment beyond PATH and locale), its working directory private to the installation, stderr logged
 * with the user's secret values masked.
 */
export async function startStdioBackend(
  key: string,
  resolved: ResolvedInstallation,
  deps: StdioDeps,
): Promise<Backend> {
  const spec = resolved.server.spec as unknown as StdioSpec;
  const sandbox = await deps.sandbox;
  if (!sandbox.status.available)
    throw new BackendStartError(
      'did_not_start',
      `stdio servers cannot run on this worker: ${sandbox.status.reason}`,
    );
  const script = spec.command
    ? undefined
    : (await deps.packages.resolve(spec.package!, spec.version!, spec.bin)).script;
  // Each installation works in a directory of its own; `{{user.dir}}` is a sibling shared on purpose.
  const ownerDir = path.join(deps.dataDir, 'users', resolved.owner_id);
  const installationDir = path.join(ownerDir, 'installations', resolved.installation_id);
  const userDir = path.join(ownerDir, 'shared');
  await mkdir(installationDir, { recursive: true, mode: 0o700 });
  if (JSON.stringify(spec).includes('user.dir')) await mkdir(userDir, { recursive: true, mode: 0o770 });
  const values: TemplateValues = {
    settings: resolved.settings,
    secrets: resolved.secrets,
    userDir,
    installationDir,
  };

  const env: Record<string, string> = {
    HOME: installationDir,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    NODE_ENV: 'production',
  };
  for (const [k, v] of Object.entries(resolved.settings))
    if (v !== null && v !== undefined) env[k] = String(v);
  for (const [k, v] of Object.entries(resolved.secrets)) env[k] = v;
  for (const [k, v] of Object.entries(spec.env ?? {})) env[k] = render(v, values);

  const secretValues = Object.values(resolved.secrets);
  const args = (spec.args ?? []).map((a) => render(a, values));
  const sharesUserDir = JSON.stringify(spec).includes('user.dir');
  const proc: SandboxedProcess = {
    ...(sandbox.status.uidPerInstallation
      ? { uid: idFor(`${resolved.owner_id}/${resolved.installation_id}`), gid: idFor(resolved.owner_id) }
      : {}),
    readOnly: script
      ? [...(await packagePaths(script)), ORPHAN_GUARD, path.dirname(process.execPath)]
      : [path.dirname(spec.command!)],
    readWrite: [installationDir, ...(sharesUserDir ? [userDir] : [])],
    cwd: installationDir,
    network: spec.network ?? 'egress',
    limits: {
      memoryMb: spec.resources?.memory_mb ?? DEFAULT_LIMITS.memoryMb,
      pids: spec.resources?.pids ?? DEFAULT_LIMITS.pids,
      openFiles: spec.resources?.open_files ?? DEFAULT_LIMITS.openFiles,
    },
  };
  await sandbox.prepare(proc);
  const launch = script
    ? sandbox.wrap(process.execPath, ['--require', ORPHAN_GUARD, script, ...args], proc)
    : sandbox.wrap(spec.command!, args, proc);
  const transport = new StdioClientTransport({
    command: launch.command,
    args: launch.args,
    env,
    cwd: installationDir,
    stderr: 'pipe',
  });
  const log = deps.logger.child({ server: resolved.server.slug, installation: resolved.slug });
  // The process may print its environment: the masker hides these values in every log line while it runs.
  deps.masker.add(secretValues);
  let buffered = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trimEnd();
      buffered = buffered.slice(nl + 1);
      if (line) log.info({ stream: 'stderr' }, deps.masker.mask(line).slice(0, 4000));
      nl = buffered.indexOf('\n');
    }
    if (buffered.length > 16_384) buffered = buffered.slice(-4096);
  });

  const client = new Client(BACKEND_CLIENT_INFO, { capabilities: BACKEND_CLIENT_CAPABILITIES });
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    deps.masker.release(secretValues);
    deps.onExit?.(transport.pid);
  };
  try {
    await client.connect(transport, { timeout: deps.connectTimeoutMillis });
  } catch (err) {
    await transport.close().catch(() => undefined);
    release();
    throw new BackendStartError(
      'did_not_start',
      `the ${resolved.server.slug} server did not start: ${(err as Error).message}`,
    );
  }
  deps.onSpawn?.();
  log.info({ pid: transport.pid }, 'stdio server started');
  const backend = new Backend(key, client, resolved.updated_at, () => client.close());
  backend.onClose(release);
  backend.pid = transport.pid ?? undefined;
  return backend;
}
