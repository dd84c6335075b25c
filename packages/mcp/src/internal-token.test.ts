import { describe, expect, it } from 'vitest';
import { InternalTokens } from './internal-token.ts';

const tokens = new InternalTokens('s'.repeat(40));
const claims = {
  sub: 'user-1',
  mode: 'installation' as const,
  installations: [{ id: 'i1', slug: 'everything' }],
};

describe('InternalTokens', () => {
  it('round-trips claims', () => {
    expect(tokens.verify(tokens.sign(claims))).toEqual(claims);
  });

  it('refuses a token signed with another secret, a tampered one, an expired one and garbage', () => {
    const other = new InternalTokens('t'.repeat(40)).sign(claims);
    expect(() => tokens.verify(other)).toThrow(/signature/);
    const [v, payload, sig] = tokens.sign(claims).split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'user-2', exp: 9e9 })).toString('base64url');
    expect(() => tokens.verify(`${v}.${forged}.${sig}`)).toThrow(/signature/);
    expect(() => tokens.verify(`${v}.${payload}.${sig}`, Date.now() + 120_000)).toThrow(/expired/);
    for (const bad of ['', 'a.b', 'sb1..', 'eyJ.eyJ.sig']) expect(() => tokens.verify(bad)).toThrow();
  });

  it('needs a long secret', () => {
    expect(() => new InternalTokens('short')).toThrow(/at least 32/);
  });
});
