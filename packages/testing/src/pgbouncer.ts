import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Login } from '@switchboard/db';
import { freePort } from '@switchboard/runtime';
import pg from 'pg';
import { waitFor } from './wait.ts';

/**
 * Debian's PgBouncer in transaction mode in front of the test cluster: a connection is lent to a
 * client for one transaction only, which is what Supavisor's transaction mode (port 6543) does. LISTEN
 * and session state do not survive it; a small pool makes clients share server connections, so any
 * state leaking between transactions shows.
 */
export interface TransactionPooler {
  port: number;
  /** The same login and database as `directUrl`, through the pooler. */
  pooled(directUrl: string): string;
  /** Server connections the pooler holds open (`SHOW POOLS`' sv_active + sv_idle + sv_used), per user. */
  serverConnections(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

const PGBOUNCER = '/usr/sbin/pgbouncer';
/** PgBouncer refuses to run as root; the test cluster's OS user runs it (packages/db/src/embedded.ts). */
const RUN_AS = 'postgres';

export async function startTransactionPooler(opts: {
  upstreamUrl: string;
  logins: Login[];
  poolSize?: number;
}): Promise<TransactionPooler> {
  const upstream = new URL(opts.upstreamUrl);
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-pgbouncer-'));
  const port = await freePort();
  const owner = {
    name: decodeURIComponent(upstream.username),
    password: decodeURIComponent(upstream.password),
  };
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  await writeFile(
    path.join(dir, 'users.txt'),
    [owner, ...opts.logins].map((l) => `${quote(l.name)} ${quote(l.password)}\n`).join(''),
  );
  await writeFile(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      `admin_users = ${owner.name}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize ?? 3}`,
      'max_client_conn = 1000',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // A throwaway directory of test credentials: readable by the unprivileged user running PgBouncer.
    await chmod(dir, 0o755);
    for (const f of ['users.txt', 'pgbouncer.ini']) await chmod(path.join(dir, f), 0o644);
  }
  const [command, args] = asRoot
    ? ['setpriv', [`--reuid=${RUN_AS}`, `--regid=${RUN_AS}`, '--clear-groups', PGBOUNCER, 'pgbouncer.ini']]
    : [PGBOUNCER, ['pgbouncer.ini']];
  // It logs to stderr when it has no logfile: kept for the error if it does not come up.
  const child: ChildProcess = spawn(command, args as string[], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `postgres://${encodeURIComponent(owner.name)}:${encodeURIComponent(owner.password)}@127.0.0.1:${port}/pgbouncer`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) return 'exited';
        const probe = new pg.Client({ connectionString: adminUrl });
        await probe.connect();
        await probe.end();
        return 'up';
      },
      { what: 'pgbouncer to accept connections', timeoutMillis: 30_000 },
    ).then((state) => {
      if (state === 'exited') throw new Error(`pgbouncer exited (${child.exitCode}): ${log}`);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    pooled: (directUrl) => {
      const u = new URL(directUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    serverConnections: async () => {
      // The admin console speaks the simple query protocol only: a query without parameters uses it.
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<Record<string, string>>('SHOW POOLS');
        const byUser: Record<string, number> = {};
        for (const r of rows) {
          const n = Number(r.sv_active) + Number(r.sv_idle) + Number(r.sv_used);
          byUser[r.user!] = (byUser[r.user!] ?? 0) + n;
        }
        return byUser;
      } finally {
        await admin.end();
      }
    },
    stop,
  };
}
