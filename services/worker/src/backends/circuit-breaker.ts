import { BackendUnavailable } from './backend-unavailable.ts';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open a circuit. */
  threshold: number;
  /** How long a circuit first stays open; it doubles each time the trial call fails, up to the max. */
  cooldownMillis: number;
  maxCooldownMillis: number;
  /** Called when a circuit opens (the backend behind it is recycled; metrics count it). */
  onOpen?: (key: string) => void;
  now?: () => number;
}

/** Raised instead of calling a backend whose circuit is open. */
export class CircuitOpen extends BackendUnavailable {
  constructor(
    message: string,
    readonly retryAfterMillis: number,
  ) {
    super(message);
  }
}

interface Circuit {
  failures: number;
  /** Set while open or half-open. */
  openUntil?: number;
  cooldown: number;
  /** When the half-open trial call was let through (one at a time). */
  trialAt?: number;
}

/** A trial call that never reports (it cannot happen, but must not wedge the circuit) is forgotten after this. */
const TRIAL_TIMEOUT_MILLIS = 120_000;

/**
 * Circuit breakers keyed by backend (user, installation) on this worker: a backend that keeps failing
 * (timeouts, crashes, refused connections) is refused at once for a cool-down instead of making every
 * caller wait for its deadline; then one trial call goes through, and its success closes the circuit.
 */
export class CircuitBreakers {
  private readonly circuits = new Map<string, Circuit>();
  private readonly now: () => number;

  constructor(private readonly opts: CircuitBreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Lets a call through, or throws CircuitOpen. In half-open state only one trial runs at a time. */
  admit(key: string, label: string): void {
    const c = this.circuits.get(key);
    if (c?.openUntil === undefined) return;
    const now = this.now();
    if (now < c.openUntil) {
      throw new CircuitOpen(
        `the ${label} server is unavailable after repeated failures; retrying it in ${Math.ceil((c.openUntil - now) / 1000)} s`,
        c.openUntil - now,
      );
    }
    if (c.trialAt !== undefined && now - c.trialAt < TRIAL_TIMEOUT_MILLIS)
      throw new CircuitOpen(`the ${label} server is being retried; try again shortly`, 1000);
    c.trialAt = now;
  }

  succeeded(key: string): void {
    this.circuits.delete(key);
  }

  failed(key: string): void {
    const now = this.now();
    const c = this.circuits.get(key) ?? { failures: 0, cooldown: this.opts.cooldownMillis };
    this.circuits.set(key, c);
    // Calls that were already running when the circuit opened fail too; they are not news.
    if (c.openUntil !== undefined && c.trialAt === undefined) return;
    c.failures++;
    const trialFailed = c.trialAt !== undefined;
    if (!trialFailed && c.failures < this.opts.threshold) return;
    c.cooldown = trialFailed ? Math.min(this.opts.maxCooldownMillis, c.cooldown * 2) : c.cooldown;
    c.openUntil = now + c.cooldown;
    c.trialAt = undefined;
    this.opts.onOpen?.(key);
  }

  /** Open (or half-open, trial pending) circuits, with how long until the next trial. */
  state(key: string): { open: boolean; retryAfterMillis: number } {
    const c = this.circuits.get(key);
    if (c?.openUntil === undefined) return { open: false, retryAfterMillis: 0 };
    return { open: true, retryAfterMillis: Math.max(0, c.openUntil - this.now()) };
  }

  get openCount(): number {
    let n = 0;
    for (const c of this.circuits.values()) if (c.openUntil !== undefined) n++;
    return n;
  }

  forget(key: string): void {
    this.circuits.delete(key);
  }
}
