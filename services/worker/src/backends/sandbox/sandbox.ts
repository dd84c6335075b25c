import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

/** `WORKER_SANDBOX`: `bwrap` (the default) runs each stdio server in a bubblewrap sandbox; `off` does not. */
export type SandboxMode = 'bwrap' | 'off';

/** A catalog entry's `resources`, with the defaults applied. */
export interface SandboxLimits {
  memoryMb: number;
  pids: number;
  openFiles: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { memoryMb: 1024, pids: 128, openFiles: 1024 };

export interface SandboxStatus {
  mode: SandboxMode;
  /** Whether stdio servers can start on this worker (sandboxed, or `off` on purpose). */
  available: boolean;
  /** Why not, in words an operator can act on. */
  reason?: string;
  /**
   * How memory, process and open-file limits are enforced: `prlimit` (per process: RLIMIT_DATA,
   * RLIMIT_NOFILE, and RLIMIT_NPROC counted for the server's own uid), or `none` when off.
   */
  limits: 'prlimit' | 'none';
  /** Each (user, installation) runs as a uid of its own (the worker runs as root). */
  uidPerInstallation: boolean;
}

export interface SandboxedProcess {
  /** Who runs it: the installation's own uid and the user's gid (only when the worker is root). */
  uid?: number;
  gid?: number;
  /** Read-only paths the server needs (its package, its command's directory), mounted at the same path. */
  readOnly: string[];
  /** Read-write paths (its installation directory; the user's shared directory if the entry asks). */
  readWrite: string[];
  cwd: string;
  network: 'none' | 'egress';
  limits: SandboxLimits;
}

/** System files a program needs to resolve names and verify TLS, and nothing about the host's users. */
const ETC = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/localtime',
];
/** The merged-/usr top-level links (`/bin -> usr/bin`), recreated inside as they are outside. */
const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib64'];

/** A uid or gid for `key` in 100000–999999, away from the host's own users (collisions are possible, and harmless beyond sharing a process budget). */
export function idFor(key: string): number {
  return 100_000 + (createHash('sha256').update(key).digest().readUInt32BE(0) % 900_000);
}

/**
 * Runs stdio servers in bubblewrap: their own mount namespace with only `/usr` (read-only), a few
 * files of `/etc`, their package and their own directory; their own PID namespace (no other
 * process visible under `/proc`), no network namespace unless the entry asks for egress, a clean
 * `/tmp`, an unprivileged uid of their own, the limits set by `prlimit`, and killed with the worker
 * (`--die-with-parent`).
 */
export class Sandbox {
  private constructor(
    readonly status: SandboxStatus,
    private readonly topLevel: string[],
  ) {}

  /** `env` is where the trial looks for the programs (the worker's own environment by default). */
  static async detect(
    mode: SandboxMode,
    logger: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<Sandbox> {
    const root = process.getuid?.() === 0;
    if (mode === 'off') {
      logger.warn(
        'WORKER_SANDBOX=off: stdio servers run unsandboxed, as the worker, with its view of the files',
      );
      return new Sandbox({ mode, available: true, limits: 'none', uidPerInstallation: false }, []);
    }
    const topLevel: string[] = [];
    for (const p of TOP_LEVEL) {
      const stat = await lstat(p).catch(() => undefined);
      if (stat?.isSymbolicLink()) topLevel.push('--symlink', await readlink(p), p);
      else if (stat?.isDirectory()) topLevel.push('--ro-bind', p, p);
    }
    const sandbox = new Sandbox(
      { mode, available: true, limits: 'prlimit', uidPerInstallation: root },
      topLevel,
    );
    // A trial run, as the servers will run: a worker that cannot sandbox says why now, not at first use.
    const trial = sandbox.wrap('/bin/true', [], {
      ...(root ? { uid: idFor('trial'), gid: idFor('trial') } : {}),
      readOnly: [],
      readWrite: [],
      cwd: '/',
      network: 'none',
      limits: DEFAULT_LIMITS,
    });
    try {
      await promisify(execFile)(trial.command, trial.args, { timeout: 10_000, env });
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const reason = missing
        ? 'bubblewrap (bwrap) or prlimit is not installed: install the bubblewrap package, or set WORKER_SANDBOX=off'
        : `bubblewrap cannot create a sandbox here (${String(
            (err as { stderr?: string }).stderr ?? (err as Error).message,
          )
            .trim()
            .slice(
              0,
              200,
            )}): the worker needs user namespaces (see docs/operations.md), or WORKER_SANDBOX=off`;
      logger.error({ reason }, 'stdio servers are disabled: no sandbox');
      return new Sandbox({ mode, available: false, reason, limits: 'prlimit', uidPerInstallation: root }, []);
    }
    logger.info({ uidPerInstallation: root }, 'stdio servers run in bubblewrap sandboxes');
    return sandbox;
  }

  /** Gives the server's directories to its uid (they are created by the worker). */
  async prepare(proc: Pick<SandboxedProcess, 'uid' | 'gid' | 'readWrite'>): Promise<void> {
    if (this.status.mode === 'off' || proc.uid === undefined) return;
    for (const dir of proc.readWrite) await chown(dir, proc.uid, proc.gid ?? proc.uid);
  }

  /** The command line that runs `command args` in the sandbox (or as is, when off). */
  wrap(command: string, args: string[], proc: SandboxedProcess): { command: string; args: string[] } {
    if (this.status.mode === 'off') return { command, args };
    const limits = [
      `--data=${proc.limits.memoryMb * 1024 * 1024}`,
      `--nofile=${proc.limits.openFiles}`,
      // RLIMIT_NPROC counts every process of the real uid: only meaningful for a uid of the server's own.
      ...(proc.uid !== undefined ? [`--nproc=${proc.limits.pids}`] : []),
    ];
    // Directories bwrap makes on the way to a mount are private to root: the server's uid must pass
    // through them (0711), but not list them.
    const parents = ancestors([...ETC, ...proc.readOnly, ...proc.readWrite]);
    const mounts = [
      ...['--ro-bind', '/usr', '/usr'],
      ...this.topLevel,
      ...parents.filter((d) => !d.startsWith('/tmp/')).flatMap((d) => ['--perms', '0711', '--dir', d]),
      ...ETC.flatMap((p) => ['--ro-bind-try', p, p]),
      ...['--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp'],
      ...parents.filter((d) => d.startsWith('/tmp/')).flatMap((d) => ['--perms', '0711', '--dir', d]),
      ...[...new Set(proc.readOnly)].flatMap((p) => ['--ro-bind', p, p]),
      ...proc.readWrite.flatMap((p) => ['--bind', p, p]),
    ];
    // As root, bwrap builds the namespaces and mounts, and setpriv then becomes the server's own uid
    // (a real, unprivileged one, so RLIMIT_NPROC counts that server alone) with no capabilities and
    // no way back (no_new_privs). As another user, bwrap maps the worker's uid in a user namespace.
    const namespaces =
      proc.uid !== undefined
        ? [
            '--unshare-ipc',
            '--unshare-pid',
            '--unshare-uts',
            '--unshare-cgroup-try',
            ...(proc.network === 'egress' ? [] : ['--unshare-net']),
          ]
        : ['--unshare-all', ...(proc.network === 'egress' ? ['--share-net'] : [])];
    const identity =
      proc.uid !== undefined
        ? [
            'setpriv',
            `--reuid=${proc.uid}`,
            `--regid=${proc.gid ?? proc.uid}`,
            '--clear-groups',
            '--inh-caps=-all',
            '--bounding-set=-all',
            '--no-new-privs',
            '--',
          ]
        : [];
    const bwrap = [
      'bwrap',
      ...namespaces,
      '--die-with-parent',
      '--new-session',
      ...mounts,
      '--chdir',
      proc.cwd,
      '--',
      ...identity,
      command,
      ...args,
    ];
    return { command: 'prlimit', args: [...limits, '--', ...bwrap] };
  }
}

/** Every directory above `paths` (outermost first), except the root and what `/usr` already holds. */
function ancestors(paths: string[]): string[] {
  const all = new Set<string>();
  for (const p of paths) {
    for (let d = path.dirname(p); d !== '/' && d !== '.'; d = path.dirname(d)) {
      if (d !== '/usr' && !d.startsWith('/usr/') && d !== '/tmp') all.add(d);
    }
  }
  return [...all].sort((a, b) => a.split('/').length - b.split('/').length);
}

/**
 * What a script needs mounted read-only so it and its dependencies resolve: the top `node_modules` it
 * was found in, and, when it is a link into a workspace package (Node resolves from the real path),
 * that package's directory.
 */
export async function packagePaths(script: string): Promise<string[]> {
  const at = script.indexOf(`${path.sep}node_modules${path.sep}`);
  const root = at >= 0 ? script.slice(0, at + '/node_modules'.length) : path.dirname(script);
  const real = await realpath(script);
  return real.startsWith(`${root}${path.sep}`) ? [root] : [root, path.dirname(real)];
}
