import type { RolePasswords } from '@keel/db';

/** What the global setup hands every test file. */
export interface TestPostgres {
  host: string;
  port: number;
  certificatePath: string;
  dataDir: string;
  superuserPassword: string;
  passwords: RolePasswords;
  templateDatabase: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    keelPostgres: TestPostgres;
  }
}
