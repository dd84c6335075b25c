import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namespacedName, namespacedUri, splitName, splitUri } from './naming.ts';
import { rankNodes } from './rendezvous.ts';

const slug = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);

describe('naming', () => {
  it('maps tool names and resource URIs reversibly', () => {
    fc.assert(
      fc.property(slug, fc.string({ minLength: 1 }), fc.webUrl(), (s, name, uri) => {
        expect(splitName(namespacedName(s, name))).toEqual({ slug: s, name });
        expect(splitUri(namespacedUri(s, uri))).toEqual({ slug: s, uri });
      }),
    );
  });

  it('keeps URI templates valid templates', () => {
    expect(namespacedUri('everything', 'test://template/{id}/data')).toBe(
      'sb-everything+test://template/{id}/data',
    );
    expect(splitName('no-separator')).toBeUndefined();
    expect(splitUri('test://plain')).toBeUndefined();
  });
});

describe('rankNodes', () => {
  const nodes = ['w1', 'w2', 'w3', 'w4'].map((id) => ({ id }));

  it('ranks the same way everywhere and spreads keys', () => {
    const first = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const top = rankNodes(`user-${i}`, nodes)[0]!.id;
      expect(rankNodes(`user-${i}`, [...nodes].reverse())[0]!.id).toBe(top);
      first.set(top, (first.get(top) ?? 0) + 1);
    }
    for (const n of first.values()) expect(n).toBeGreaterThan(800);
  });

  it('moves only the keys of a removed node', () => {
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const before = rankNodes(`k${i}`, nodes)[0]!.id;
      const after = rankNodes(
        `k${i}`,
        nodes.filter((n) => n.id !== 'w2'),
      )[0]!.id;
      if (before !== after) {
        expect(before).toBe('w2');
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(300);
  });
});
