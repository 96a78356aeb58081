import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({ globalSetup: ['../db/src/testing/global-setup.ts'] });
