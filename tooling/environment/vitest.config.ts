import { defineKeelTestConfig } from '@keel/vitest-config';

export default defineKeelTestConfig({});
