import { DomainError } from '@switchboard/runtime';
import type { Principal } from '../auth/principal.ts';

/** A scoped API key reaches only its installations; a slug outside the scope is refused. */
export function assertInScope(principal: Principal, slug: string): void {
  const scopes = principal.apiKey?.scopes;
  if (scopes && !scopes.includes(slug)) {
    throw new DomainError('forbidden', `This API key is not scoped to ${slug}`);
  }
}

/** Changing what is installed, or its credentials, needs an unscoped credential. */
export function assertUnscoped(principal: Principal): void {
  if (principal.apiKey?.scopes)
    throw new DomainError('forbidden', 'A scoped API key cannot change installations');
}

/** Minting and revoking keys needs a signed-in session: a leaked key must not mint more keys. */
export function assertSession(principal: Principal): void {
  if (principal.via !== 'jwt')
    throw new DomainError('forbidden', 'API keys cannot manage API keys; sign in instead');
}

export function assertOperator(principal: Principal): void {
  if (principal.role !== 'operator') throw new DomainError('forbidden', 'Only operators can do this');
}
