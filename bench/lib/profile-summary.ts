/** Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into where the time went. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  /** Microseconds on the system's monotonic clock (what `process.hrtime` reads). */
  startTime: number;
}

/** Which package a frame belongs to: a dependency's name, a workspace folder, node's own, or V8's. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = url.match(/\/(services|packages)\/([^/]+)\//);
  if (ours) return `${ours[1]}/${ours[2]}`;
  const bundle = url.match(/\/dist\/([a-z-]+)\.js$/);
  return bundle ? `dist/${bundle[1]} (ours, bundled)` : url;
}

/** The services whose code the profile ran (its own `services/<name>/`). */
function servicesOf(profile: CpuProfile): string[] {
  const names = new Set<string>();
  for (const n of profile.nodes) {
    const m = n.callFrame.url.match(/\/services\/([^/]+)\/src\/|\/dist\/(gateway|worker)\.js$/);
    if (m) names.add((m[1] ?? m[2])!);
  }
  return [...names];
}

/**
 * Self time by package and the top functions, in microseconds per call: the samples taken while the load
 * ran (`window`, monotonic microseconds as `process.hrtime` gives them), divided by the calls made.
 */
export function summariseProfile(
  profile: CpuProfile,
  calls: number,
  window: { from: number; to: number },
  top = 15,
): { services: string[]; text: string } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= window.from && at <= window.to) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${pkg}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  }
  const perCall = (micros: number) => (micros / Math.max(1, calls)).toFixed(1);
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1)}%`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${k} | ${perCall(v)} | ${share(v)} |`);
  const text = [
    `busy ${perCall(busy)} µs per call`,
    '',
    '| package | µs per call | share |',
    '|---|---:|---:|',
    ...rows(byPackage, 12),
    '',
    '| function (self time) | µs per call | share |',
    '|---|---:|---:|',
    ...rows(byFunction, top),
  ].join('\n');
  return { services: servicesOf(profile), text };
}
