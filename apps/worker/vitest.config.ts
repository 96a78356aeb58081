import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({
  globalSetup: ['../../packages/platform/src/testing/global-setup.ts'],
});
