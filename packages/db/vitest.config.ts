import { defineKeelTestConfig } from '@keel/vitest-config';

// The runtime layer's own tests need no database; the schema, migration and
// role suites live in @keel/platform, which owns the test databases.
export default defineKeelTestConfig();
