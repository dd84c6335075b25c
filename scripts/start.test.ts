import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@switchboard/runtime';
import { isAlive, waitFor } from '@switchboard/testing';
import { afterAll, describe, expect, it } from 'vitest';

// `npm start` as a user runs it: the real script, real processes, real ports. Two stacks side by side.

const ROOT = path.resolve(import.meta.dirname, '..');

interface StartedStack {
  proc: ChildProcess;
  dataDir: string;
  port: number;
  output: () => string;
}

const started: StartedStack[] = [];
afterAll(async () => {
  for (const s of started) {
    if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    await rm(s.dataDir, { recursive: true, force: true });
  }
});

async function startStack(extraEnv: Record<string, string> = {}): Promise<StartedStack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-start-'));
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SWITCHBOARD_PORT: String(port),
      SWITCHBOARD_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  const stack = { proc, dataDir, port, output: () => out };
  started.push(stack);
  return stack;
}

/** `stack.json` is written once every process is up; `/readyz` may answer a moment earlier. */
async function stackInfo(s: StartedStack) {
  const text = await waitFor(() => readFile(path.join(s.dataDir, 'stack.json'), 'utf8').catch(() => ''), {
    timeoutMillis: 120_000,
    what: 'stack.json',
  });
  return JSON.parse(text);
}

async function readyz(port: number): Promise<number> {
  return fetch(`http://127.0.0.1:${port}/readyz`).then(
    (r) => r.status,
    () => 0,
  );
}

/** Every process whose command line or environment names this stack's data directory. */
async function processesOf(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const [cmdline, environ] = await Promise.all(
      ['cmdline', 'environ'].map((f) => readFile(`/proc/${entry}/${f}`, 'latin1').catch(() => '')),
    );
    if (cmdline.includes(dataDir) || environ.includes(`SWITCHBOARD_DATA_DIR=${dataDir}`))
      pids.push(Number(entry));
  }
  return pids;
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

describe('npm start', { timeout: 240_000 }, () => {
  it('two stacks run side by side, become ready, and SIGTERM leaves no process behind', async () => {
    const t0 = Date.now();
    const [a, b] = await Promise.all([startStack(), startStack({ SWITCHBOARD_GATEWAYS: '2' })]);
    for (const s of [a, b]) {
      await waitFor(async () => (await readyz(s.port)) === 200, {
        timeoutMillis: 120_000,
        what: `stack on ${s.port}`,
      }).catch((err: Error) => {
        // What the stack said is the only clue to why it never became ready.
        throw new Error(`${err.message}\n--- its output:\n${s.output().slice(-4000)}`);
      });
    }
    // How fast is the benches' business; here, that it gets there.
    console.log(`two stacks ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const s of [a, b]) {
      const info = await stackInfo(s);
      expect(info).toMatchObject({
        gatewayUrl: `http://localhost:${s.port}`,
        anonKey: expect.stringMatching(/^sb_publishable_/),
      });
      expect(info.databaseUrl).toMatch(/^postgres:\/\/postgres:.+@127\.0\.0\.1:\d+\/postgres$/);
      expect(info.workers).toHaveLength(2);
      // Every service serves /metrics.
      for (const url of [`http://127.0.0.1:${s.port}`, ...info.workers, info.authUrl]) {
        const res = await fetch(`${url}/metrics`);
        expect(res.status, url).toBe(200);
        expect(await res.text()).toContain('process_resident_memory_bytes');
      }
      // Local auth is reachable through the gateway, as Supabase Auth is behind Kong.
      expect((await fetch(`http://127.0.0.1:${s.port}/auth/v1/health`)).status).toBe(200);
    }

    // The identity flow against the real processes, with supabase-js and fetch only.
    const smoke = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/smoke-auth.ts', path.join(a.dataDir, 'stack.json')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let smokeOut = '';
    smoke.stdout?.on('data', (d) => (smokeOut += d));
    smoke.stderr?.on('data', (d) => (smokeOut += d));
    expect(await exited(smoke), smokeOut).toBe(0);
    expect(smokeOut).toContain('identity smoke test passed');

    const pids = await processesOf(b.dataDir);
    // start.ts, auth, 2 workers, 2 gateway replicas, and PostgreSQL's processes.
    expect(pids.length).toBeGreaterThanOrEqual(7);

    b.proc.kill('SIGTERM');
    expect(await exited(b.proc)).toBe(0);
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      timeoutMillis: 10_000,
      what: 'every process to exit',
    });
    expect(b.output()).not.toMatch(/exited unexpectedly/);

    // The other stack did not notice.
    expect(await readyz(a.port)).toBe(200);
    const pidsA = await processesOf(a.dataDir);
    a.proc.kill('SIGINT');
    expect(await exited(a.proc)).toBe(0);
    await waitFor(() => pidsA.every((pid) => !isAlive(pid)), {
      timeoutMillis: 2000,
      what: 'every process to exit',
    });
  });

  it('reports a crashed service, brings it back, and keeps data across restarts', async () => {
    const s = await startStack();
    await waitFor(async () => (await readyz(s.port)) === 200, { timeoutMillis: 120_000, what: 'ready' });
    const info = await stackInfo(s);

    const workerPid = (await processesOf(s.dataDir)).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('services/worker');
      } catch {
        return false;
      }
    });
    expect(workerPid).toBeDefined();
    process.kill(workerPid!, 'SIGKILL');
    await waitFor(() => /worker-\d exited unexpectedly/.test(s.output()), {
      what: 'the crash to be reported',
    });
    await waitFor(() => /worker-\d restarted/.test(s.output()), { what: 'the worker to come back' });
    await waitFor(
      async () =>
        (await fetch(`${info.workers[0]}/healthz`).catch(() => null))?.ok &&
        (await fetch(`${info.workers[1]}/healthz`).catch(() => null))?.ok,
      { what: 'both workers healthy on their ports' },
    );

    s.proc.kill('SIGTERM');
    expect(await exited(s.proc)).toBe(0);

    // Same data dir again: same anon key, schema already applied.
    const again = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_PORT: String(s.port), SWITCHBOARD_DATA_DIR: s.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    again.stdout?.on('data', (d) => (out += d));
    const restarted = { proc: again, dataDir: s.dataDir, port: s.port, output: () => out };
    started.push(restarted);
    await waitFor(async () => (await readyz(s.port)) === 200, {
      timeoutMillis: 120_000,
      what: 'ready again',
    });
    const info2 = await stackInfo(restarted);
    expect(info2.anonKey).toBe(info.anonKey);
    expect(out).toMatch(/"applied":\[\]/);
    again.kill('SIGTERM');
    expect(await exited(again)).toBe(0);
  });

  it('stops everything when `npm start` itself gets SIGTERM (npm does not pass it on)', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'switchboard-npm-'));
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SWITCHBOARD_PORT: String(port),
        SWITCHBOARD_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    started.push({ proc: npm, dataDir, port, output: () => '' });
    await waitFor(async () => (await readyz(port)) === 200, { timeoutMillis: 120_000, what: 'ready' });
    const pids = await processesOf(dataDir);
    expect(pids.length).toBeGreaterThanOrEqual(6);
    npm.kill('SIGTERM');
    await waitFor(() => pids.every((pid) => !isAlive(pid)), {
      timeoutMillis: 60_000,
      intervalMillis: 100,
      what: 'every process to exit',
    });
  });

  it('refuses a bad variable with a message naming it', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_PORT: 'eighty', SWITCHBOARD_WORKERS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr?.on('data', (d) => (err += d));
    expect(await exited(proc)).toBe(78);
    expect(err).toContain('SWITCHBOARD_PORT');
    expect(err).toContain('SWITCHBOARD_WORKERS');
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("runs the README's Try it section as written, on the Node that ships here", async () => {
    const stack = await startStack();
    await stackInfo(stack);
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Try it'),
      readme.indexOf('\n## ', readme.indexOf('## Try it') + 1),
    );
    const blocks = [...section.matchAll(/```(sh|ts)\n([\s\S]*?)```/g)].map((m) => ({
      lang: m[1],
      code: m[2]!,
    }));
    expect(blocks.map((b) => b.lang)).toEqual(['sh', 'ts']);
    const env = { ...process.env, SWITCHBOARD_DATA_DIR: stack.dataDir };
    const run = promisify(execFile);

    const shell = await run('bash', ['-euo', 'pipefail', '-c', blocks[0]!.code], { cwd: ROOT, env });
    expect(shell.stdout).toContain('"slug":"everything"');
    expect(shell.stdout).toContain('Echo: hello');

    // Saved in the checkout and run with npx tsx, as the README says.
    const file = path.join(ROOT, `try-switchboard-${process.pid}.ts`);
    await writeFile(file, blocks[1]!.code);
    try {
      const code = await run('npx', ['tsx', file], { cwd: ROOT, env });
      expect(code.stdout).toContain('installed: 201');
      expect(code.stdout).toMatch(/\d+ tools, e\.g\. demo__/);
      expect(code.stdout).toContain('Echo: hello from code');
    } finally {
      await rm(file, { force: true });
    }
  });
});
