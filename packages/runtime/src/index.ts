export * from './abort.ts';
export * from './errors.ts';
export * from './fair-queue.ts';
export * from './http-app.ts';
export * from './net-guard.ts';
export * from './ports.ts';
export * from './service.ts';
