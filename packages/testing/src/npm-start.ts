import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@switchboard/runtime';
import type { StackInfo } from '@switchboard/stack';
import { waitFor } from './wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A real `npm start` (scripts/start.ts) in a process of its own, with a data directory of its own. */
export interface NpmStart {
  proc: ChildProcess;
  dataDir: string;
  /** What the stack wrote to `<data dir>/stack.json` once every process was up. */
  info: StackInfo;
  /** SIGTERM, wait for the exit, remove the data directory. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded stack as a user does and waits until it is ready: `stack.json` written and the
 * gateway's `/readyz` answering 200. `env` adds to (or overrides) the defaults: a free port, a fresh
 * data directory and `LOG_LEVEL=warn` (`STACK_LOG_LEVEL` overrides it when investigating).
 */
export async function startNpmStart(env: Record<string, string> = {}): Promise<NpmStart> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-npm-start-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SWITCHBOARD_PORT: String(await freePort()),
      SWITCHBOARD_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.STACK_LOG_LEVEL ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // An exit ends the wait at once: its stderr (inherited) says why.
    const text = await waitFor(
      () =>
        proc.exitCode !== null
          ? `exited:${proc.exitCode}`
          : readFile(path.join(dataDir, 'stack.json'), 'utf8').catch(() => ''),
      { timeoutMillis: 90_000, what: 'stack.json' },
    );
    if (text.startsWith('exited:')) throw new Error(`npm start exited with code ${text.slice(7)}`);
    const info = JSON.parse(text) as StackInfo;
    await waitFor(async () => (await fetch(`${info.gatewayUrl}/readyz`).catch(() => null))?.ok, {
      timeoutMillis: 20_000,
      what: 'readyz',
    });
    return { proc, dataDir, info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
