// The public surface of @keel/db: the runtime data layer. It depends on
// kysely and pg only; the development platform (embedded PostgreSQL, test
// databases, seeding, codegen, conformance) is @keel/platform.

export { compileOnce } from './compile-once';
export { createDb, createDbAndPool, createPool, type DbConfig, keelTypes } from './create-db';
export type { DB } from './generated/db';
export * from './generated/db';
export { type KyselyPoolOptions, kyselyPool } from './kysely-pool';
export {
  createMigrator,
  generatedTypesFile,
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
  currentChecksums,
  lockedChecksums,
  manifestFile,
  manifestProblems,
  migrationFiles,
} from './migration-manifest';
export { migrations } from './migrations';
export { decoyPasswordHash, hashPassword, verifyPassword } from './passwords';
export {
  applySchemaPrivileges,
  appRoleSettings,
  ensureDatabase,
  ensureRoles,
  type RolePasswords,
  roleNames,
} from './roles';
