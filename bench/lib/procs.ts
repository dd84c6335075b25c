import { readdir, readFile, readlink } from 'node:fs/promises';

/** Resident memory of a process, in KiB (0 if it is gone). */
export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Open file descriptors of a process. */
export async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`).catch(() => [])).length;
}

interface ProcEntry {
  pid: number;
  ppid: number;
  cmdline: string;
}

export async function processTable(): Promise<ProcEntry[]> {
  const out: ProcEntry[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    out.push({ pid: Number(entry), ppid, cmdline });
  }
  return out;
}

export async function childrenOf(pid: number): Promise<number[]> {
  return (await processTable()).filter((p) => p.ppid === pid).map((p) => p.pid);
}

/** Resident memory of a process and all its descendants, in KiB. */
export async function treeRssKb(pid: number): Promise<number> {
  const table = await processTable();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    tree.push(...table.filter((p) => p.ppid === tree[i]).map((p) => p.pid));
  return (await Promise.all(tree.map(rssKb))).reduce((a, b) => a + b, 0);
}

/** Processes whose command line mentions `needle` and whose parent is init: left behind by their owner. */
export async function orphans(needle: string): Promise<number[]> {
  return (await processTable()).filter((p) => p.ppid === 1 && p.cmdline.includes(needle)).map((p) => p.pid);
}

/** Where a process's working directory is (to tell our processes from others on a shared machine). */
export function cwdOf(pid: number): Promise<string> {
  return readlink(`/proc/${pid}/cwd`).catch(() => '');
}

/** CPU time (user + system) a process has used so far, in milliseconds (0 if it is gone). */
export async function cpuMillis(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime (fields 14 and 15 of stat), in clock ticks of 10 ms on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Every process below `pid` (children, their children, …), not `pid` itself. */
export async function descendantsOf(pid: number): Promise<number[]> {
  const table = await processTable();
  const found: number[] = [];
  for (let frontier = [pid]; frontier.length; ) {
    const next = table.filter((p) => frontier.includes(p.ppid)).map((p) => p.pid);
    found.push(...next);
    frontier = next;
  }
  return found;
}
