export * from './cluster.ts';
export * from './database.ts';
export * from './wait.ts';
