import { createServer } from 'node:net';

const handedOut = new Set<number>();

/**
 * A port that was free on 127.0.0.1 a moment ago (the OS picks it, so two stacks never collide). The
 * OS may offer a just-released port again, so this process never hands out the same port twice.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await askOs();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function askOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
