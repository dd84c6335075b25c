import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clientSessionIds,
  RESTORABLE_FOR_SECONDS,
  routingKey,
  SessionIds,
  type SessionScope,
  scopeName,
} from './session-ids.ts';

const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } };

describe('session ids', () => {
  it('routes every request of a scope by one key, and keeps the two scopes apart', () => {
    const one: SessionScope = { kind: 'installation', userId: 'u', installationId: 'i' };
    const all: SessionScope = { kind: 'aggregate', userId: 'u', selector: 'tags=;key=*;oauth=*' };
    expect(routingKey(one)).toBe('u|i');
    expect(routingKey(all)).toBe('u|aggregate|tags=;key=*;oauth=*');
    expect(scopeName(one)).toBe('installation:i');
    expect(scopeName(all)).toBe('aggregate:tags=;key=*;oauth=*');
  });

  it("carry the worker's tag and the worker's own id, and refuse what is not one", () => {
    const ids = new SessionIds('s'.repeat(32));
    const worker = ids.create({ sub: 'u', scope: 'installation:i', init });
    const tag = clientSessionIds.workerTag('http://10.0.0.7:8081');
    expect(tag).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(tag).not.toContain('10.0.0.7');
    const id = clientSessionIds.format(tag, worker);
    expect(clientSessionIds.parse(id)).toEqual({ tag, workerSessionId: worker });
    expect(ids.verify(clientSessionIds.parse(id)!.workerSessionId)).toEqual({
      sub: 'u',
      scope: 'installation:i',
      init,
      iat: expect.any(Number),
    });
    for (const bad of ['', '.', 'tag.', '.rest', 'x'.repeat(3000)])
      expect(clientSessionIds.parse(bad), bad).toBeUndefined();
  });

  it("restore only this deployment's records", () => {
    const ours = new SessionIds('a'.repeat(32));
    const theirs = new SessionIds('b'.repeat(32));
    const id = theirs.create({ sub: 'u', scope: 'aggregate:x', init });
    expect(ours.verify(id)).toBeUndefined();
    expect(ours.verify(`${id}.extra`)).toBeUndefined();
    expect(theirs.verify(id)?.scope).toBe('aggregate:x');
  });

  it('restore a record within its window only; an undated one counts as issued on 2026-12-02', () => {
    const ids = new SessionIds('a'.repeat(32));
    const issued = Date.UTC(2026, 0, 1);
    const id = ids.create({ sub: 'u', scope: 'aggregate:x', init }, issued);
    expect(ids.verify(id, issued + RESTORABLE_FOR_SECONDS * 1000)?.iat).toBe(issued / 1000);
    expect(ids.verify(id, issued + RESTORABLE_FOR_SECONDS * 1000 + 1000)).toBeUndefined();
    // An id of the earlier format (no `iat`), signed as ours.
    const old = Buffer.from(JSON.stringify({ r: 'x', sub: 'u', scope: 'aggregate:x', init })).toString(
      'base64url',
    );
    const mac = createHmac(
      'sha256',
      createHmac('sha256', 'a'.repeat(32)).update('switchboard session ids').digest(),
    )
      .update(old)
      .digest('base64url');
    const undatedUntil = Date.UTC(2026, 11, 2) + RESTORABLE_FOR_SECONDS * 1000;
    expect(ids.verify(`${old}.${mac}`, undatedUntil)?.scope).toBe('aggregate:x');
    expect(ids.verify(`${old}.${mac}`, undatedUntil + 1000)).toBeUndefined();
    expect(SessionIds.peek(`${old}.${mac}`)?.scope).toBe('aggregate:x');
  });
});
