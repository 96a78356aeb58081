// `pnpm db:codegen`: migrate a scratch embedded database and regenerate
// src/generated/db.ts from it with kysely-codegen.
import '@keel/runtime/require-node';
import { generatedTypesFile } from '@keel/db';
import { generateTypes } from '../codegen';
import { startScratchDatabase } from '../embedded/scratch-database';

const scratch = await startScratchDatabase();
try {
  await generateTypes(scratch.ownerUrl, generatedTypesFile);
  console.log(`wrote ${generatedTypesFile}`);
} finally {
  await scratch.stop();
}
