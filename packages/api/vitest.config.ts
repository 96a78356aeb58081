import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({ globalSetup: ['../platform/src/testing/global-setup.ts'] });
