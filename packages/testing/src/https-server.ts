import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A real HTTPS server on loopback with a certificate made for it (openssl, self-signed for `localhost`),
 * for what must be https (an OAuth client's metadata document URL). `ca` is the certificate to trust.
 */
export async function startHttpsServer(
  handler: RequestListener,
): Promise<{ url: string; ca: string; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchboard-tls-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    const [key, cert] = await Promise.all([
      readFile(path.join(dir, 'key.pem'), 'utf8'),
      readFile(path.join(dir, 'cert.pem'), 'utf8'),
    ]);
    const server = createServer({ key, cert }, handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `https://localhost:${(server.address() as AddressInfo).port}`,
      ca: cert,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
