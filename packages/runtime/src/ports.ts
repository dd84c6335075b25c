import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const handedOut = new Set<number>();

/**
 * Where free ports are looked for: below the kernel's ephemeral range (`ip_local_port_range`, from
 * which outgoing connections take their local ports). A port handed out here is bound a moment later
 * by another process; one from the ephemeral range could be taken meanwhile by any outgoing connection
 * on the machine (a database pool, an HTTP client), and the listener would fail to bind.
 */
function searchRange(): [number, number] {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && low > 11_000) return [10_000, low];
  } catch {
    // Not Linux, or no /proc: let the OS choose.
  }
  return [0, 0];
}
const [LOW, HIGH] = searchRange();

/**
 * A port that was free on 127.0.0.1 a moment ago. Chosen at random below the ephemeral range (see
 * `searchRange`) and checked by binding it; this process never hands out the same port twice. Where
 * the range is unknown, the OS picks one.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const wanted = HIGH > LOW && attempt < 50 ? LOW + Math.floor(Math.random() * (HIGH - LOW)) : 0;
    if (handedOut.has(wanted)) continue;
    const port = await tryBind(wanted);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Binds `port` (0: any) on 127.0.0.1 and releases it; undefined if it is taken. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err),
    );
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}
