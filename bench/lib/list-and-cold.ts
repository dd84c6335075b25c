import type { Dispatcher } from 'undici';
import { RawMcpSession } from './mcp-session.ts';
import { quantile } from './stats.ts';

export interface ListFigures {
  installations: number;
  /** The first list: every member's server started (in parallel) and asked. */
  coldMillis: number;
  warm: { era: string; p50: number; p90: number }[];
}

/**
 * `tools/list` through `/mcp` for a user with `installations` stdio servers: the first (cold) list,
 * then `rounds` warm ones in each era.
 */
export async function aggregateListTimes(
  url: string,
  token: string,
  dispatcher: Dispatcher,
  installations: number,
  rounds = 50,
): Promise<ListFigures> {
  const auth = { authorization: `Bearer ${token}` };
  const legacy = new RawMcpSession(`${url}/mcp`, auth, dispatcher, 120_000);
  await legacy.initialize();
  const cold = await legacy.list('tools/list');
  if (!cold.ok) throw new Error(`cold tools/list failed: ${cold.error}`);
  const modern = new RawMcpSession(`${url}/mcp`, auth, dispatcher);
  const warm = [];
  for (const [era, session, isModern] of [
    ['2025-11-25 (session)', legacy, false],
    ['2026-07-28 (stateless)', modern, true],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await session.list('tools/list', isModern);
      if (!r.ok) throw new Error(`tools/list failed: ${r.error}`);
      times.push(r.endedAt - r.startedAt);
    }
    warm.push({ era, p50: quantile(times, 0.5), p90: quantile(times, 0.9) });
  }
  return { installations, coldMillis: cold.endedAt - cold.startedAt, warm };
}

/**
 * The first tool call of a user whose stdio server is not running (its package already on the machine):
 * `initialize`, then `tools/call`, through the gateway, timed from the first byte sent to the answer.
 */
export async function firstCallMillis(url: string, token: string, dispatcher: Dispatcher): Promise<number> {
  const session = new RawMcpSession(url, { authorization: `Bearer ${token}` }, dispatcher, 60_000);
  const started = performance.now();
  await session.initialize();
  const r = await session.callTool('echo', { message: 'cold' });
  if (!r.ok) throw new Error(`first call failed: ${r.error}`);
  return performance.now() - started;
}
