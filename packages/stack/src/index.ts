export * from './env.ts';
export * from './stack.ts';
