// The public surface of @keel/db.

export { developmentPasswords, localDatabaseOptionsFromEnv } from './cli/env';
export { generatedTypesFile, generateTypes } from './codegen';
export {
  checkSchemaConformance,
  formatViolation,
  type Violation,
} from './conformance/check-schema';
export { describeSchema } from './conformance/describe-schema';
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
export { type ScratchDatabase, startScratchDatabase } from './embedded/scratch-database';
export { localhostCertificate } from './embedded/tls-certificate';
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
export { decoyPasswordHash, hashPassword, verifyPassword } from './passwords';
export {
  applySchemaPrivileges,
  appRoleSettings,
  ensureDatabase,
  ensureRoles,
  type RolePasswords,
  roleNames,
} from './roles';
export { type BulkSeedOptions, type BulkSeedReport, seedBulkData } from './seed/bulk-data';
export {
  type DevelopmentSeedResult,
  developmentAccounts,
  seedDevelopmentData,
} from './seed/development-data';
