import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { waitFor } from '@switchboard/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Backend } from './backend.ts';

/** A real SDK server in process, and a count of the `tools/list` requests it received. */
async function serverWithTools() {
  const server = new McpServer({ name: 'tools', version: '1.0.0' });
  server.registerTool('first', { inputSchema: { n: z.number() } }, async () => ({ content: [] }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  let lists = 0;
  const deliver = serverSide.onmessage!;
  serverSide.onmessage = (message, extra) => {
    if ((message as { method?: string }).method === 'tools/list') lists++;
    deliver.call(serverSide, message, extra);
  };
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  const backend = new Backend('key', client, 'v1', () => client.close());
  return { server, backend, lists: () => lists };
}

describe("a backend keeps its server's tool list", () => {
  it('asks once, and again only after the server says its tools changed', async () => {
    const { server, backend, lists } = await serverWithTools();
    expect((await backend.listAllTools()).map((t) => t.name)).toEqual(['first']);
    expect((await backend.listAllTools()).map((t) => t.name)).toEqual(['first']);
    expect(await backend.checkToolArguments('first', { n: 'one' })).toMatch(/Invalid arguments/);
    expect(lists()).toBe(1);

    // Registering a tool on a connected SDK server sends notifications/tools/list_changed.
    server.registerTool('second', {}, async () => ({ content: [] }));
    await waitFor(async () => (await backend.listAllTools()).some((t) => t.name === 'second'), {
      what: 'the new tool',
    });
    expect(lists()).toBe(2);
    expect(await backend.checkToolArguments('first', { n: 1 })).toBeUndefined();
    await backend.close();
  });
});
