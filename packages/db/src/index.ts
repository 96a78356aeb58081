// The public surface of @keel/db.
export { createDb, createPool, type DbConfig, keelTypes } from './create-db';
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  findFreePort,
  startEmbeddedPostgres,
} from './embedded/embedded-postgres';
export {
  adminDb,
  type DatabaseTarget,
  type LocalDatabaseOptions,
  openLocalDatabase,
  provisionDatabase,
} from './embedded/local-database';
export type { DB } from './generated/db';
export * from './generated/db';
export {
  createMigrator,
  type MigrationCommand,
  MigrationFailedError,
  migrate,
  migrationsFolder,
  migrationTableSchema,
} from './migrate';
export {
  addForeignKey,
  createStandardTable,
  dropStandardTable,
  type ForeignKeySpec,
  type ReferentialAction,
  type StandardTableSpec,
} from './migration-helpers';
export {
  applySchemaPrivileges,
  appRoleSettings,
  ensureDatabase,
  ensureRoles,
  type RolePasswords,
  roleNames,
} from './roles';
