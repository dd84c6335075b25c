/** The p-th quantile (0..1) of the values, nearest rank; NaN when there are none. */
export function quantile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}

export const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
export const ms = (x: number) => `${x.toFixed(1)} ms`;

export function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));
