export * from './internal-token.ts';
export * from './naming.ts';
export * from './oauth-resources.ts';
export * from './rendezvous.ts';
export * from './runtime-kinds.ts';
export * from './session-ids.ts';
export * from './upstream-oauth.ts';
