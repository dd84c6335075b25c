export * from './errors.ts';
export * from './http-app.ts';
export * from './ports.ts';
export * from './service.ts';
