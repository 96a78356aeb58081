import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { generatedTypesFile } from '@keel/db';

/**
 * Type mappings that keep the generated types equal to what `createDb`'s type
 * parsers return at run time: int8 → number, date → 'YYYY-MM-DD' string.
 */
const typeMapping = { int8: 'number' };

/**
 * Text columns whose CHECK constraint allows a fixed set of values: the
 * generated type is that union, so `Order.status` is never a bare string
 * anywhere. `test/codegen-overrides.test.ts` keeps each union equal to its
 * constraint.
 */
export const columnOverrides: Record<string, { values: readonly string[]; hasDefault: boolean }> = {
  'orders.status': {
    values: ['pending', 'paid', 'shipped', 'delivered', 'cancelled'],
    hasDefault: true,
  },
  'users.role': { values: ['customer', 'admin'], hasDefault: true },
  'payments.status': { values: ['approved', 'declined'], hasDefault: false },
  'keel_jobs.order_events.type': {
    values: ['order.placed', 'order.cancelled', 'order.expired', 'order.status_changed'],
    hasDefault: false,
  },
  'keel_jobs.order_events.delivery_status': {
    values: ['pending', 'delivered', 'failed'],
    hasDefault: true,
  },
};

/**
 * Runs kysely-codegen against a migrated database and writes `outFile`.
 *
 * @example
 * ```ts
 * import { generateTypes } from '@keel/platform';
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
    // The job queue's tables in keel_jobs are pg-boss's own (its private
    // API): only Keel's tables get types.
    '--include-pattern={public.*,keel_jobs.order_events}',
    '--date-parser=string',
    '--numeric-parser=string',
    `--type-mapping=${JSON.stringify(typeMapping)}`,
    `--overrides=${JSON.stringify({
      columns: Object.fromEntries(
        Object.entries(columnOverrides).map(([column, { values, hasDefault }]) => {
          const union = values.map((v) => JSON.stringify(v)).join(' | ');
          // A column with a default may be left out of an insert, as kysely-codegen's Generated<>.
          return [column, hasDefault ? `Generated<${union}>` : union];
        }),
      ),
    })}`,
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
