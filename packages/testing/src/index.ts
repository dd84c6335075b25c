export * from './cluster.ts';
export * from './database.ts';
export * from './users.ts';
export * from './wait.ts';
