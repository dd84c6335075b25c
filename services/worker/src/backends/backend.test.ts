import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { waitFor } from '@switchboard/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Backend } from './backend.ts';

/**
 * A real SDK server in process, a count of the `tools/list` requests it received and the methods of
 * everything it received; `hang(true)` makes it stop answering `tools/list` (the requests are received
 * and counted, never handled); `holdLists()` keeps its `tools/list` answers from the client until the
 * function it returns is called; `clientGot()` lists what the client received and has handled.
 */
async function serverWithTools() {
  const server = new McpServer({ name: 'tools', version: '1.0.0' });
  const first = server.registerTool('first', { inputSchema: { n: z.number() } }, async () => ({
    content: [],
  }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  let lists = 0;
  let hanging = false;
  let held: Promise<void> | undefined;
  const received: string[] = [];
  const deliver = serverSide.onmessage!;
  serverSide.onmessage = (message, extra) => {
    const method = (message as { method?: string }).method;
    if (method) received.push(method);
    if (method === 'tools/list') {
      lists++;
      if (hanging) return;
    }
    deliver.call(serverSide, message, extra);
  };
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  const clientGot: string[] = [];
  const toClient = clientSide.onmessage!;
  let heldAnswers = 0;
  clientSide.onmessage = (message, extra) => {
    if (held && (message as { result?: { tools?: unknown } }).result?.tools) {
      heldAnswers++;
      void held.then(() => toClient.call(clientSide, message, extra));
      return;
    }
    toClient.call(clientSide, message, extra);
    const method = (message as { method?: string }).method;
    // The SDK runs notification handlers in a later microtask: counted once they have run.
    if (method) setImmediate(() => clientGot.push(method));
  };
  const backend = new Backend('key', client, 'v1', () => client.close());
  return {
    server,
    first,
    backend,
    lists: () => lists,
    received: () => received,
    clientGot: () => clientGot,
    heldAnswers: () => heldAnswers,
    holdLists: () => {
      let release!: () => void;
      held = new Promise((r) => {
        release = r;
      });
      return () => {
        held = undefined;
        release();
      };
    },
    hang: (on: boolean) => {
      hanging = on;
    },
  };
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

  it('reads it once for calls that come together, and compiles the schemas once', async () => {
    const { backend, lists } = await serverWithTools();
    const load = vi.spyOn(backend.arguments, 'load');
    const checks = await Promise.all(
      Array.from({ length: 10 }, (_, i) => backend.checkToolArguments('first', { n: i % 2 ? i : 'x' })),
    );
    expect(checks.filter((c) => c?.startsWith('Invalid arguments'))).toHaveLength(5);
    expect(lists()).toBe(1);
    expect(load).toHaveBeenCalledTimes(1);
    await backend.close();
  });

  it('cancels a read at the server once everyone waiting gave up, and reads afresh for the next', async () => {
    const { backend, lists, received, hang } = await serverWithTools();
    hang(true);
    const first = new AbortController();
    const second = new AbortController();
    const waits = [backend.toolListing(first.signal), backend.toolListing(second.signal)];
    await waitFor(() => lists() === 1, { what: 'the read to reach the server' });
    first.abort(new Error('first gave up'));
    await expect(waits[0]).rejects.toThrow('first gave up');
    // One still waits: the read goes on.
    expect(received()).not.toContain('notifications/cancelled');
    second.abort(new Error('second gave up'));
    await expect(waits[1]).rejects.toThrow('second gave up');
    await waitFor(() => received().includes('notifications/cancelled'), { what: 'the cancellation' });
    hang(false);
    expect((await backend.toolListing()).tools.map((t) => t.name)).toEqual(['first']);
    expect(lists()).toBe(2);
    await backend.close();
  });

  it('does not keep the schemas of a list the server changed while it was read', async () => {
    const { first, backend, lists, clientGot, heldAnswers, holdLists } = await serverWithTools();
    const release = holdLists();
    const checking = backend.checkToolArguments('first', { n: 'text' });
    await waitFor(() => heldAnswers() === 1, { what: 'the server to answer with the list' });
    // While that list (`n` a number) is on its way, the tool changes: `n` is now a string.
    first.update({ paramsSchema: { n: z.string() } });
    await waitFor(() => clientGot().includes('notifications/tools/list_changed'), {
      what: 'the change to reach the backend',
    });
    release();
    // The list read before the change checks no later call.
    await checking;
    expect(await backend.checkToolArguments('first', { n: 'text' })).toBeUndefined();
    expect(await backend.checkToolArguments('first', { n: 1 })).toMatch(/Invalid arguments/);
    expect(lists()).toBe(2);
    await backend.close();
  });

  it('lets a waiting caller give up without failing the others', async () => {
    const { backend, lists } = await serverWithTools();
    const impatient = backend.toolListing(AbortSignal.abort(new Error('gave up')));
    const patient = backend.toolListing();
    await expect(impatient).rejects.toThrow('gave up');
    expect((await patient).tools.map((t) => t.name)).toEqual(['first']);
    expect(lists()).toBe(1);
    await backend.close();
  });
});
