/**
 * The image's HEALTHCHECK: asks the service in this container whether it is alive. Which service runs
 * is read from PID 1's command line (`node dist/<service>.js`; another pid may be given as the
 * argument), so one image needs one check. Its port comes from the same environment the service has.
 * Exits 0 when healthy, 1 otherwise.
 */

import { readFileSync } from 'node:fs';

const PROBES: Record<string, { port: () => string | undefined; path: string }> = {
  gateway: { port: () => process.env.SWITCHBOARD_PORT ?? '8080', path: '/healthz' },
  worker: { port: () => process.env.PORT, path: '/healthz' },
  // Local auth answers GoTrue's health route.
  auth: { port: () => process.env.PORT, path: '/health' },
};

const argv = readFileSync(`/proc/${process.argv[2] ?? '1'}/cmdline`, 'utf8').split('\0');
const service = argv.map((a) => /dist\/(\w+)\.js$/.exec(a)?.[1]).find((s) => s && s in PROBES);
const probe = service ? PROBES[service] : undefined;
const port = probe?.port();
if (!probe || !port) {
  // The migration job, or a command this check does not know: nothing to probe.
  process.exit(0);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}${probe.path}`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
