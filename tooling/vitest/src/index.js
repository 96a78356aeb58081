// Plain JavaScript on purpose: vitest loads its config through Node without a
// TypeScript loader for linked workspace packages. Types are in index.d.ts.
import { defineConfig } from 'vitest/config';

/**
 * The vitest configuration every Keel package uses: real-database friendly
 * timeouts, and a JSON result file that `pnpm test` sums into one line.
 *
 * @example
 * ```ts
 * // packages/db/vitest.config.ts
 * import { defineKeelTestConfig } from '@keel/vitest-config';
 * export default defineKeelTestConfig({ globalSetup: ['./src/testing/global-setup.ts'] });
 * ```
 *
 * @param {import('./index.d.ts').KeelTestConfigOptions} [options]
 */
export function defineKeelTestConfig(options = {}) {
  return defineConfig({
    test: {
      include: options.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      globalSetup: options.globalSetup ?? [],
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 120_000,
      teardownTimeout: 30_000,
      pool: 'forks',
      reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    },
  });
}
