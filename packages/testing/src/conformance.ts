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

/** Runs the official MCP conformance suite's active server scenarios against `url`; returns every check. */
export async function runConformanceSuite(
  url: string,
): Promise<{ code: number | null; output: string; checks: ConformanceCheck[] }> {
  const cli = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/package.json')),
    'dist',
    'index.js',
  );
  const out = await mkdtemp(path.join(tmpdir(), 'conformance-'));
  try {
    const child = spawn(process.execPath, [cli, 'server', '--url', url, '-o', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const checks: ConformanceCheck[] = [];
    for (const entry of await readdir(out, { recursive: true })) {
      if (!String(entry).endsWith('checks.json')) continue;
      checks.push(
        ...(JSON.parse(await readFile(path.join(out, String(entry)), 'utf8')) as ConformanceCheck[]),
      );
    }
    return { code, output, checks };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
