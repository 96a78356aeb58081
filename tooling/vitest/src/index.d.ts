import type { ViteUserConfig } from 'vitest/config';

/** Options a package passes to the shared test configuration. */
export interface KeelTestConfigOptions {
  /** Global setup modules, e.g. the one in `@keel/db` that starts PostgreSQL. */
  globalSetup?: string[];
  /** Per-test timeout in milliseconds. Database tests get a generous default. */
  testTimeout?: number;
  /** Test file globs; defaults to every `*.test.ts` under `src` and `test`. */
  include?: string[];
}

/** The vitest configuration every Keel package uses. */
export declare function defineKeelTestConfig(options?: KeelTestConfigOptions): ViteUserConfig;
