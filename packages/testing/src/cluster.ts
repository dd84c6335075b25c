import type { ServiceLogins } from '@switchboard/db';

export const TEMPLATE_DATABASE = 'switchboard_template';

export interface TestCluster {
  ownerUrl: string;
  port: number;
  logins: ServiceLogins;
}

declare module 'vitest' {
  export interface ProvidedContext {
    switchboardCluster: TestCluster;
  }
}
