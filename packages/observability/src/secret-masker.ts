/**
 * Masks known secret values wherever they appear in text. Workers register the secrets they resolve so
 * that a child process printing its environment, or an upstream echoing a token in an error, cannot put
 * the value into a log line.
 */
export class SecretMasker {
  private readonly values = new Map<string, number>();
  private pattern: RegExp | null = null;

  /** Adds values (reference-counted, so two holders of one value can release independently). */
  add(values: Iterable<string>): void {
    for (const v of values) {
      // Very short values would mask ordinary words; they are not secrets worth the damage.
      if (v.length < 4) continue;
      this.values.set(v, (this.values.get(v) ?? 0) + 1);
    }
    this.pattern = null;
  }

  release(values: Iterable<string>): void {
    for (const v of values) {
      const n = this.values.get(v);
      if (n === undefined) continue;
      if (n <= 1) this.values.delete(v);
      else this.values.set(v, n - 1);
    }
    this.pattern = null;
  }

  get size(): number {
    return this.values.size;
  }

  mask(text: string): string {
    if (this.values.size === 0) return text;
    if (!this.pattern) {
      // Longest first, so a secret containing another is masked whole.
      const alternatives = [...this.values.keys()]
        .sort((a, b) => b.length - a.length)
        .flatMap((v) => {
          const json = JSON.stringify(v).slice(1, -1);
          return json === v ? [v] : [v, json];
        })
        .map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
    }
    return text.replace(this.pattern, '[masked]');
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
