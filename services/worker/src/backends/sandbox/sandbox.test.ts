import { createLogger } from '@switchboard/observability';
import { describe, expect, it } from 'vitest';
import { Sandbox } from './sandbox.ts';

// How a worker decides whether it can run stdio servers, and says why when it cannot.

const logger = createLogger({ service: 'test', level: 'silent' });

describe('Sandbox.detect', () => {
  it('runs a trial sandbox and reports it usable where bubblewrap works', async () => {
    const sandbox = await Sandbox.detect('bwrap', logger);
    expect(sandbox.status).toMatchObject({ mode: 'bwrap', available: true, limits: 'prlimit' });
  });

  it('refuses, saying what to install, where bubblewrap is missing', async () => {
    const sandbox = await Sandbox.detect('bwrap', logger, { PATH: '/nonexistent' });
    expect(sandbox.status).toMatchObject({ mode: 'bwrap', available: false });
    expect(sandbox.status.reason).toMatch(/install the bubblewrap package, or set WORKER_SANDBOX=off/);
  });

  it('runs commands as they are when the operator turned it off', async () => {
    const sandbox = await Sandbox.detect('off', logger);
    expect(sandbox.status).toEqual({
      mode: 'off',
      available: true,
      limits: 'none',
      uidPerInstallation: false,
    });
    const proc = {
      readOnly: [],
      readWrite: [],
      cwd: '/',
      network: 'none' as const,
      limits: { memoryMb: 1, pids: 1, openFiles: 1 },
    };
    expect(sandbox.wrap('/usr/bin/node', ['x.js'], proc)).toEqual({
      command: '/usr/bin/node',
      args: ['x.js'],
    });
  });
});
