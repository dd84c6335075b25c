import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createLogger } from '@switchboard/observability';
import {
  DEFAULT_LIMITS,
  idFor,
  packagePaths,
  Sandbox,
} from '../../services/worker/src/backends/sandbox/sandbox.ts';
import { median, quantile } from './stats.ts';

/**
 * Cold start of a stdio server (spawn, MCP initialize, tools/list), unsandboxed and in the worker's
 * bubblewrap sandbox, alternating run by run so the machine's noise lands on both alike.
 */
export async function coldStarts(script: string, runs: number) {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const [off, bwrap] = await Promise.all([Sandbox.detect('off', logger), Sandbox.detect('bwrap', logger)]);
  if (!bwrap.status.available) return { unavailable: bwrap.status.reason };
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-cold-'));
  const times: Record<'off' | 'bwrap', number[]> = { off: [], bwrap: [] };
  try {
    for (let i = 0; i < runs * 2; i++) {
      const which = i % 2 === 0 ? 'off' : 'bwrap';
      const sandbox = which === 'off' ? off : bwrap;
      const proc = {
        ...(sandbox.status.uidPerInstallation ? { uid: idFor(`bench/${i}`), gid: idFor('bench') } : {}),
        readOnly: [...(await packagePaths(script)), path.dirname(process.execPath)],
        readWrite: [dir],
        cwd: dir,
        network: 'none' as const,
        limits: DEFAULT_LIMITS,
      };
      await sandbox.prepare(proc);
      const launch = sandbox.wrap(process.execPath, [script, 'stdio'], proc);
      const started = performance.now();
      const client = new Client({ name: 'bench', version: '1' });
      await client.connect(
        new StdioClientTransport({ command: launch.command, args: launch.args, cwd: dir, stderr: 'ignore' }),
      );
      await client.listTools();
      times[which].push(performance.now() - started);
      await client.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const summary = (t: number[]) => ({ p50: median(t), p90: quantile(t, 0.9) });
  return { off: summary(times.off), bwrap: summary(times.bwrap) };
}
