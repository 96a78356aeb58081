import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({ globalSetup: ['./src/testing/global-setup.ts'] });
