import { readdir, readFile } from 'node:fs/promises';

/** The pids whose parent is `pid`. */
export async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (stat && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid)
      children.push(Number(entry));
  }
  return children;
}

/**
 * The server process a stdio backend runs: the backend's pid is the sandbox's (prlimit and bubblewrap,
 * then bubblewrap's init); the server is the leaf below it. Unsandboxed, it is the pid itself.
 */
export async function serverProcessOf(pid: number): Promise<number> {
  let current = pid;
  for (let [next] = await childrenOf(current); next !== undefined; [next] = await childrenOf(current))
    current = next;
  return current;
}
