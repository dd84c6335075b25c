import { describe, expect, it } from 'vitest';
import { CircuitBreakers, CircuitOpen } from './circuit-breaker.ts';

function breakers() {
  let now = 1_000_000;
  const opened: string[] = [];
  const b = new CircuitBreakers({
    threshold: 3,
    cooldownMillis: 1000,
    maxCooldownMillis: 4000,
    onOpen: (key) => opened.push(key),
    now: () => now,
  });
  return { b, opened, advance: (ms: number) => (now += ms) };
}

describe('circuit breakers', () => {
  it('open after consecutive failures only, per key', () => {
    const { b, opened } = breakers();
    b.failed('a');
    b.failed('a');
    b.succeeded('a');
    b.failed('a');
    b.failed('a');
    expect(() => b.admit('a', 'x')).not.toThrow();
    b.failed('a');
    expect(opened).toEqual(['a']);
    expect(() => b.admit('a', 'x')).toThrow(CircuitOpen);
    expect(() => b.admit('b', 'x')).not.toThrow();
    expect(b.state('a')).toEqual({ open: true, retryAfterMillis: 1000 });
  });

  it('let one trial through after the cool-down; its failure doubles the cool-down, its success closes', () => {
    const { b, opened, advance } = breakers();
    for (let i = 0; i < 3; i++) b.failed('a');
    advance(999);
    expect(() => b.admit('a', 'x')).toThrow(/retrying it in 1 s/);
    advance(1);
    b.admit('a', 'x');
    // A second caller while the trial runs is refused at once.
    expect(() => b.admit('a', 'x')).toThrow(/being retried/);
    b.failed('a');
    expect(opened).toHaveLength(2);
    expect(b.state('a').retryAfterMillis).toBe(2000);
    advance(2000);
    b.admit('a', 'x');
    b.failed('a');
    advance(4000);
    b.admit('a', 'x');
    b.failed('a');
    expect(b.state('a').retryAfterMillis).toBe(4000);
    advance(4000);
    b.admit('a', 'x');
    b.succeeded('a');
    expect(b.state('a').open).toBe(false);
    expect(b.openCount).toBe(0);
    expect(() => b.admit('a', 'x')).not.toThrow();
  });

  it('do not count failures of calls that were already running when the circuit opened', () => {
    const { b, opened } = breakers();
    for (let i = 0; i < 6; i++) b.failed('a');
    expect(opened).toEqual(['a']);
    expect(b.state('a').retryAfterMillis).toBe(1000);
  });
});
