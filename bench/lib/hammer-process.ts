/**
 * A load generator in its own process (its own event loop), so its work does not delay the measuring
 * process's timers and callbacks: `concurrency` sessions of one user calling `tool` back to back while
 * switched on. Messages in: {on: boolean} | {stop: true}. Message out on stop: the counts.
 */
import { Agent } from 'undici';
import { RawMcpSession } from './mcp-session.ts';

const { url, token, concurrency, tool } = JSON.parse(process.argv[2]!) as {
  url: string;
  token: string;
  concurrency: number;
  tool: string;
};
const send = (msg: unknown) => process.send!(msg);
const dispatcher = new Agent({ connections: concurrency * 2, keepAliveTimeout: 30_000 });
const counts = { calls: 0, ok: 0, limited: 0, refused: 0, other: 0 };
let on = false;
let stopped = false;
// Every loop waits on this while switched off; switching on (or stopping) opens it for all of them.
let open!: () => void;
let gate = new Promise<void>((r) => {
  open = r;
});

process.on('message', (msg: { on?: boolean; stop?: boolean }) => {
  const wasOpen = on || stopped;
  if (msg.stop) stopped = true;
  if (msg.on !== undefined) on = msg.on;
  const isOpen = on || stopped;
  if (isOpen && !wasOpen) open();
  if (!isOpen && wasOpen)
    gate = new Promise<void>((r) => {
      open = r;
    });
});

async function loop(session: RawMcpSession) {
  while (!stopped) {
    if (!on) {
      await gate;
      continue;
    }
    const r = await session.callTool(tool, { message: 'hammer' });
    counts.calls++;
    if (r.ok) counts.ok++;
    else if (r.status === 429) counts.limited++;
    else if (r.error?.includes('calls in flight')) counts.refused++;
    else counts.other++;
  }
}

const sessions = Array.from(
  { length: concurrency },
  () => new RawMcpSession(url, { authorization: `Bearer ${token}` }, dispatcher),
);
// Opening 32 sessions at once is itself a burst the default plan refuses: do as a client honouring
// Retry-After does.
for (const s of sessions) {
  for (;;) {
    try {
      await s.initialize();
      break;
    } catch (err) {
      if (!String(err).includes('answered 429')) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
send({ ready: true });
await Promise.all(sessions.map(loop));
send({ counts });
await dispatcher.close();
process.disconnect();
