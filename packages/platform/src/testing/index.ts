import { randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import {
  applySchemaPrivileges,
  createDb,
  type DbConfig,
  ensureDatabase,
  roleNames,
} from '@keel/db';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import { embeddedUrl, superuserName } from '../embedded/embedded-postgres';
import { adminDb } from '../embedded/local-database';
import type { TestPostgres } from './test-postgres';

export {
  createUser,
  makeProduct,
  seedUsers,
  type TestProduct,
  type TestUser,
  testPassword,
  uniqueSku,
} from './fixtures';
export { type ReplicatedDatabase, startReplicatedDatabase } from './replica';
export type { TestPostgres } from './test-postgres';

/** A database of a test file's own, cloned from the migrated template. */
export interface TestDatabase {
  name: string;
  server: TestPostgres;
  /** Connection strings for each role. */
  urls: { superuser: string; owner: string; app: string; readonly: string };
  /** The app's view: Kysely as `keel_app`, as the service connects. */
  db: Kysely<DB>;
  /** Ends every pool this helper opened. */
  destroy(): Promise<void>;
}

/** Builds a `postgres://` URL to the test server for any role and database. */
export function testUrl(
  server: TestPostgres,
  role: string,
  password: string,
  database: string,
): string {
  return embeddedUrl(server, role, password, database);
}

/**
 * Creates a fresh database for the calling test file, cloned from the
 * template the global setup migrated (`CREATE DATABASE … TEMPLATE …`), so
 * test files run in parallel with no shared state and no cleanup.
 *
 * @example
 * ```ts
 * import { createTestDatabase } from '@keel/db/testing';
 * const testDb = await createTestDatabase();
 * await testDb.db.selectFrom('users').selectAll().execute();
 * await testDb.destroy();
 * ```
 */
export async function createTestDatabase(
  options: { template?: string | null; db?: Partial<DbConfig> } = {},
): Promise<TestDatabase> {
  const server = inject('keelPostgres');
  const name = `test_${randomUUID().replaceAll('-', '')}`;
  const superuser = testUrl(server, superuserName, server.superuserPassword, 'postgres');
  const admin = adminDb(superuser);
  try {
    const template = options.template === undefined ? server.templateDatabase : options.template;
    await ensureDatabase(admin, name, template ?? undefined);
  } finally {
    await admin.destroy();
  }
  const urls = {
    superuser: testUrl(server, superuserName, server.superuserPassword, name),
    owner: testUrl(server, roleNames.owner, server.passwords.owner, name),
    app: testUrl(server, roleNames.app, server.passwords.app, name),
    readonly: testUrl(server, roleNames.readonly, server.passwords.readonly, name),
  };
  if (options.template === null) {
    // An empty database still needs the schema handed to keel_owner.
    const inDatabase = adminDb(urls.superuser);
    try {
      await applySchemaPrivileges(inDatabase);
    } finally {
      await inDatabase.destroy();
    }
  }
  const db = createDb({ connectionString: urls.app, maxConnections: 5, ...options.db });
  return { name, server, urls, db, destroy: () => db.destroy() };
}
