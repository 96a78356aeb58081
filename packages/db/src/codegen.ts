import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The committed, generated `Database` types. Never edited by hand. */
export const generatedTypesFile = join(import.meta.dirname, 'generated', 'db.ts');

/**
 * Type mappings that keep the generated types equal to what `createDb`'s type
 * parsers return at run time: int8 → number, date → 'YYYY-MM-DD' string.
 */
const typeMapping = { int8: 'number' };

/**
 * Runs kysely-codegen against a migrated database and writes `outFile`.
 *
 * @example
 * ```ts
 * import { generateTypes } from '@keel/db';
 * await generateTypes(ownerUrl, '/tmp/db.ts');
 * ```
 */
export async function generateTypes(
  databaseUrl: string,
  outFile = generatedTypesFile,
): Promise<void> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('kysely-codegen/package.json');
  const cli = join(dirname(packageJson), 'dist', 'cli', 'bin.js');
  const args = [
    cli,
    '--dialect=postgres',
    `--url=${databaseUrl}`,
    `--out-file=${outFile}`,
    '--default-schema=public',
    '--date-parser=string',
    '--numeric-parser=string',
    `--type-mapping=${JSON.stringify(typeMapping)}`,
    '--log-level=error',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`kysely-codegen exited with ${code}: ${output}`)),
    );
  });
}
