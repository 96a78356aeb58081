import path from 'node:path';
import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely/migration';
import { migrations as keelMigrations } from './migrations';

/** The folder holding `NNNN_name.ts` migration files (and their index). */
export const migrationsFolder = path.join(import.meta.dirname, 'migrations');

/** The committed `Database` types kysely-codegen generates (`pnpm db:codegen`). Never edited by hand. */
export const generatedTypesFile = path.join(import.meta.dirname, 'generated', 'db.ts');

/** Migration bookkeeping lives in its own schema, out of the app's reach. */
export const migrationTableSchema = 'keel_migrations';

/** What `migrate` can do. */
export type MigrationCommand = 'latest' | 'up' | 'down' | 'reset';

/** A migration run that did not succeed; names the migration and the cause. */
export class MigrationFailedError extends Error {
  constructor(
    readonly migrationName: string | undefined,
    override readonly cause: unknown,
    readonly results: MigrationResultSet['results'],
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      migrationName
        ? `migration ${migrationName} failed: ${reason}`
        : `migrations could not run: ${reason}`,
    );
    this.name = 'MigrationFailedError';
  }
}

/**
 * Kysely's migrator over Keel's migration folder.
 *
 * @example
 * ```ts
 * import { createMigrator } from '@keel/db';
 * const pending = (await createMigrator(db).getMigrations()).filter((m) => !m.executedAt);
 * ```
 */
export function createMigrator(
  db: Kysely<unknown>,
  migrations: Record<string, Migration> = keelMigrations,
): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema,
  });
}

/**
 * Runs migrations as the schema owner. Kysely's migrator returns its error
 * instead of throwing; this throws `MigrationFailedError` so no caller can
 * ignore a half-run migration. On PostgreSQL the whole run is one
 * transaction: a failure leaves the schema as it was.
 *
 * @example
 * ```ts
 * import { migrate } from '@keel/db';
 * const results = await migrate(ownerDb, 'latest');
 * for (const r of results) console.log(r.migrationName, r.status);
 * ```
 */
export async function migrate(
  db: Kysely<unknown>,
  command: MigrationCommand,
  migrations: Record<string, Migration> = keelMigrations,
): Promise<NonNullable<MigrationResultSet['results']>> {
  const migrator = createMigrator(db, migrations);
  const resultSet =
    command === 'latest'
      ? await migrator.migrateToLatest()
      : command === 'up'
        ? await migrator.migrateUp()
        : command === 'down'
          ? await migrator.migrateDown()
          : await migrator.migrateTo(NO_MIGRATIONS);
  if (resultSet.error) {
    const failed = resultSet.results?.find((r) => r.status === 'Error');
    throw new MigrationFailedError(failed?.migrationName, resultSet.error, resultSet.results);
  }
  return resultSet.results ?? [];
}
