import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({
  globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
});
