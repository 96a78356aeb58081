import { defineKeelTestConfig } from '@keel/vitest-config';

// The browser suite: a real Chromium against the real server and an embedded
// PostgreSQL, one file at a time (one browser, two cores).
export default defineKeelTestConfig({
  globalSetup: ['../../packages/platform/src/testing/global-setup.ts'],
  testTimeout: 120_000,
});
