export * from './auth-challenges.ts';
export * from './cluster.ts';
export * from './conformance.ts';
export * from './credential-proxy.ts';
export * from './database.ts';
export * from './elasticsearch-standin.ts';
export * from './users.ts';
export * from './wait.ts';
