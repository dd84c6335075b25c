import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: every caller ranks the nodes for a key the same way, so
 * all gateway replicas send a user's calls for an installation to the same worker, and adding or
 * removing a worker moves only the keys that rank it first.
 */
export function rankNodes<T extends { id: string }>(key: string, nodes: readonly T[]): T[] {
  return nodes
    .map((node) => ({
      node,
      score: createHash('sha256').update(`${node.id}\u0000${key}`).digest().readBigUInt64BE(0),
    }))
    .sort((a, b) => (a.score === b.score ? a.node.id.localeCompare(b.node.id) : a.score > b.score ? -1 : 1))
    .map((r) => r.node);
}
