import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createMcpHandler, inputRequired, inputResponse, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface ModernServer {
  url: string;
  /** Tells open `subscriptions/listen` streams that a resource changed. */
  touch(uri: string): void;
  close(): Promise<void>;
}

export const MODERN_NOTE_URI = 'note://modern/greeting';
/** How long the fixture says its tool list may be kept. */
export const MODERN_TOOLS_TTL_MS = 60_000;

/**
 * A server of MCP revision 2026-07-28 only, built with the official SDK's second generation
 * (`@modelcontextprotocol/server`, `legacy: 'reject'`): a 2025 `initialize` is refused with `-32022`.
 * It asks for sampling and elicitation the 2026 way, by returning `input_required`.
 */
export async function startModernServer(): Promise<ModernServer> {
  const handler = createMcpHandler(
    () => {
      const server = new McpServer(
        { name: 'modern-fixture', version: '2.0.0' },
        {
          capabilities: { resources: { subscribe: true } },
          cacheHints: { 'tools/list': { ttlMs: MODERN_TOOLS_TTL_MS, cacheScope: 'public' } },
        },
      );
      server.registerTool(
        'echo',
        { description: 'Echoes a message', inputSchema: z.object({ message: z.string() }) },
        async ({ message }) => ({ content: [{ type: 'text', text: `Modern echo: ${message}` }] }),
      );
      server.registerTool(
        'ask-model',
        { description: 'Asks the client to sample a model', inputSchema: z.object({ question: z.string() }) },
        async ({ question }, ctx) => {
          const answer = inputResponse(ctx.mcpReq.inputResponses, 'answer');
          if (answer.kind !== 'sampling')
            return inputRequired({
              inputRequests: {
                answer: inputRequired.createMessage({
                  messages: [{ role: 'user', content: { type: 'text', text: question } }],
                  maxTokens: 20,
                }),
              },
            });
          const content = answer.result.content as { type: string; text?: string };
          return { content: [{ type: 'text', text: `The model said: ${content.text ?? ''}` }] };
        },
      );
      server.registerTool(
        'confirm',
        { description: 'Asks the user to confirm', inputSchema: z.object({ action: z.string() }) },
        async ({ action }, ctx) => {
          const reply = inputResponse(ctx.mcpReq.inputResponses, 'confirm');
          if (reply.kind !== 'elicit')
            return inputRequired({
              inputRequests: {
                confirm: inputRequired.elicit({
                  message: `Really ${action}?`,
                  requestedSchema: {
                    type: 'object',
                    properties: { sure: { type: 'boolean' } },
                    required: ['sure'],
                  },
                }),
              },
            });
          return {
            content: [{ type: 'text', text: `${action}: ${reply.action} ${JSON.stringify(reply.content)}` }],
          };
        },
      );
      server.registerResource('greeting', MODERN_NOTE_URI, { mimeType: 'text/plain' }, async (uri) => ({
        contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hello from 2026' }],
      }));
      server.registerPrompt('greet', { description: 'A greeting' }, async () => ({
        messages: [{ role: 'user', content: { type: 'text', text: 'Say hello the 2026 way' } }],
      }));
      return server;
    },
    { legacy: 'reject' },
  );
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const answer = await handler.fetch(
      new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      }),
    );
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (!answer.body) return void res.end();
    const body = Readable.fromWeb(answer.body as never);
    res.on('close', () => body.destroy());
    body.pipe(res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    touch: (uri) => handler.notify.resourceUpdated(uri),
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
