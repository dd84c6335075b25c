import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('npm scripts', () => {
  it("run on the machine's Node: no dependency's node binary is linked ahead of it", () => {
    // npm puts node_modules/.bin first on PATH: a `node` there would replace the machine's for every
    // script (start, test, bench). Node 22 for the conformance client is called by its path instead.
    expect(existsSync('node_modules/.bin/node')).toBe(false);
  });
});
