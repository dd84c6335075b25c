export * from './as-user.ts';
export * from './audit-writer.ts';
export * from './bootstrap.ts';
export * from './change-listener.ts';
export * from './embedded.ts';
export * from './migrations.ts';
export * from './paths.ts';
export * from './pool.ts';
