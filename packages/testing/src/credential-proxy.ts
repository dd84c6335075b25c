import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Test plumbing for clients that cannot send headers (the conformance CLI has no auth option): a local
 * HTTP proxy that adds `Authorization` and otherwise forwards every request byte for byte, Host and
 * Origin included, streaming the answer back. With several targets it sends each request to the next
 * one, on a fresh connection, so consecutive requests of one MCP session hit different gateway replicas.
 */
export async function startCredentialProxy(
  targets: string[],
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const agent = new Agent({ keepAlive: false });
  const server: Server = createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]!);
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
