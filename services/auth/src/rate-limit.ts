import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { authErrors } from './gotrue/errors.ts';

export interface SignInLimits {
  perAddress: number;
  perEmail: number;
  windowSeconds: number;
}

/**
 * Sign-in and sign-up attempts, limited per client address and per email (so neither a single host
 * nor a distributed guesser against one account gets far). Local auth is one process, so the counters
 * live in memory.
 */
export class SignInRateLimiter {
  private readonly byAddress: RateLimiterMemory;
  private readonly byEmail: RateLimiterMemory;

  constructor(limits: SignInLimits) {
    this.byAddress = new RateLimiterMemory({
      points: limits.perAddress,
      duration: limits.windowSeconds,
      keyPrefix: 'addr',
    });
    this.byEmail = new RateLimiterMemory({
      points: limits.perEmail,
      duration: limits.windowSeconds,
      keyPrefix: 'email',
    });
  }

  /** Counts one attempt; throws Supabase's `over_request_rate_limit` once either budget is spent. */
  async attempt(address: string | undefined, email: unknown): Promise<void> {
    try {
      await this.byAddress.consume(address ?? 'unknown');
      if (typeof email === 'string' && email) await this.byEmail.consume(email.trim().toLowerCase());
    } catch (err) {
      if (err instanceof RateLimiterRes)
        throw authErrors.rateLimited(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
      throw err;
    }
  }
}
