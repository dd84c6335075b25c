/**
 * `npm start`: the embedded stack on this machine, no Docker. Prints the URLs when the gateway is ready
 * and writes them to `<data dir>/stack.json`. Ctrl-C or SIGTERM stops every process it started.
 */
import { ConfigError, loadConfigOrExit } from '@switchboard/config';
import { ensureConsoleBuilt } from '@switchboard/console/build';
import { createLogger } from '@switchboard/observability';
import { loadStackEnv, startStack } from '@switchboard/stack';

const env = loadConfigOrExit(() => loadStackEnv(process.env));
const logger = createLogger({ service: 'switchboard', level: env.LOG_LEVEL });

// The web console is built here when its sources changed (a fresh clone: about 3 s), so `npm start` is
// the only step a person takes.
if (await ensureConsoleBuilt()) logger.info('built the web console (services/console/dist)');

let stopping = false;
const stack = await startStack(env, logger).catch((err: unknown) => {
  // A configuration that cannot work (compiled services not built) is told like a bad variable.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  logger.fatal({ err }, 'the stack failed to start');
  process.exit(1);
});

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping the stack');
  const force = setTimeout(() => {
    logger.error('shutdown took longer than 10 s; exiting');
    process.exit(1);
  }, 10_000);
  await stack.stop();
  clearTimeout(force);
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// `npm start` runs this under npm and a shell; npm exits on SIGTERM without passing it on, which would
// leave this process and everything it started running. Noticing that the parent is gone is the cure.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('parent exited');
}, 250).unref();

const ready = await waitForReady(`${stack.info.gatewayUrl}/readyz`, 30_000);
const { gatewayUrl, anonKey, workers } = stack.info;
process.stdout.write(
  [
    '',
    `Switchboard is ${ready ? 'ready' : 'up, but /readyz does not answer 200 yet'}.`,
    `  Gateway (MCP, REST, auth): ${gatewayUrl}`,
    `  MCP endpoint:              ${gatewayUrl}/mcp`,
    `  Supabase Auth (local):     ${gatewayUrl}/auth/v1`,
    `  Anon key:                  ${anonKey}`,
    `  Workers:                   ${workers.join(', ')}`,
    `  Details:                   ${env.SWITCHBOARD_DATA_DIR}/stack.json`,
    '',
    `Next: open ${gatewayUrl}/ in a browser to sign up, connect a server and try its tools.`,
    'The README\'s "Try it" section has the same steps with curl. Make yourself an operator:',
    'npm run operator -- grant <email>',
    '',
    '',
  ].join('\n'),
);

async function waitForReady(url: string, timeoutMillis: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline && !stopping) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
