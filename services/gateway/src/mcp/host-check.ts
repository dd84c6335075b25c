import type { RequestHandler } from 'express';

/**
 * DNS-rebinding protection for the MCP endpoints: the Host (and Origin, when a browser sends one) must
 * name this gateway: its public URL's host, loopback, or a host the operator allows.
 */
export function hostCheck(publicUrl: string, extraHosts: string[]): RequestHandler {
  const allowed = new Set(
    ['localhost', '127.0.0.1', '[::1]', new URL(publicUrl).hostname, ...extraHosts].map((h) =>
      h.toLowerCase(),
    ),
  );
  const hostnameOf = (value: string) => {
    try {
      return new URL(value.includes('://') ? value : `http://${value}`).hostname.toLowerCase();
    } catch {
      return '';
    }
  };
  return (req, res, next) => {
    const host = hostnameOf(req.get('host') ?? '');
    const origin = req.get('origin');
    if (
      !allowed.has(host) ||
      (origin !== undefined && origin !== 'null' && !allowed.has(hostnameOf(origin)))
    ) {
      res.status(403).json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Forbidden: Host or Origin not allowed' },
        id: null,
      });
      return;
    }
    next();
  };
}
