import { defineKeelTestConfig } from '@keel/vitest-config';

// The browser suite: a real Chromium against the real server and an embedded
// PostgreSQL, one file at a time (one browser, two cores). The storefront is
// built first when its build is missing or stale (test/build-storefront.ts).
export default defineKeelTestConfig({
  globalSetup: [
    './test/build-storefront.ts',
    '../../packages/platform/src/testing/global-setup.ts',
  ],
  testTimeout: 120_000,
});
