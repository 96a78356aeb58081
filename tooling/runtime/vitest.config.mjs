import { defineKeelTestConfig } from '@keel/vitest-config';

// Fetching Node from the registry may take a while on a slow network.
export default defineKeelTestConfig({ include: ['test/**/*.test.mjs'], testTimeout: 300_000 });
