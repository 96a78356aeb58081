// The public surface of @keel/platform: Keel's development platform, for dev
// tooling, tests and the bench only (never the production server): embedded
// PostgreSQL 18 with TLS, scratch and test databases, schema conformance,
// seed data, type generation and the db:* commands.

export {
  developmentPasswords,
  localDatabaseOptionsFromEnv,
  readToolingEnvironment,
  type ToolingEnvironment,
  toolingVariables,
} from './cli/env';
export { columnOverrides, generateTypes } from './codegen';
export {
  checkSchemaConformance,
  formatViolation,
  type Violation,
} from './conformance/check-schema';
export { describeSchema } from './conformance/describe-schema';
export {
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
  findFreePort,
  pgCtlStopArgs,
  type StopPath,
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
export {
  replicationRole,
  type StreamingReplicaOptions,
  startStreamingReplica,
} from './embedded/streaming-replica';
export { localhostCertificate } from './embedded/tls-certificate';
export { type BulkSeedOptions, type BulkSeedReport, seedBulkData } from './seed/bulk-data';
export {
  type DevelopmentSeedResult,
  developmentAccounts,
  seedDevelopmentData,
} from './seed/development-data';
