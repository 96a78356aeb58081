import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, roleNames } from '@keel/db';
import { type EmbeddedPostgres, startEmbeddedPostgres, superuserName } from './embedded-postgres';
import { adminDb, provisionDatabase } from './local-database';

/** A throwaway embedded server with one fully migrated database. */
export interface ScratchDatabase {
  server: EmbeddedPostgres;
  superuserPassword: string;
  passwords: { owner: string; app: string; readonly: string };
  database: string;
  ownerUrl: string;
  appUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway embedded PostgreSQL with random passwords, provisions
 * the roles and one database, and migrates it to the latest schema. Used by
 * codegen, the test harness's global setup and the server's outage tests.
 *
 * @example
 * ```ts
 * import { startScratchDatabase } from '@keel/db';
 * const scratch = await startScratchDatabase();
 * console.log(scratch.ownerUrl);
 * await scratch.stop();
 * ```
 */
export async function startScratchDatabase(
  options: { database?: string; dataDir?: string; persistent?: boolean } = {},
): Promise<ScratchDatabase> {
  const secret = () => randomBytes(12).toString('hex');
  const superuserPassword = secret();
  const passwords = { owner: secret(), app: secret(), readonly: secret() };
  const database = options.database ?? 'keel';
  const server = await startEmbeddedPostgres({
    dataDir: options.dataDir ?? (await mkdtemp(join(tmpdir(), 'keel-scratch-'))),
    superuserPassword,
    persistent: options.persistent ?? false,
    slowQueryMs: -1,
  });
  try {
    await provisionDatabase(server.url(superuserName, superuserPassword, 'postgres'), {
      passwords,
      database,
    });
    const ownerUrl = server.url(roleNames.owner, passwords.owner, database);
    const owner = adminDb(ownerUrl);
    try {
      await migrate(owner, 'latest');
    } finally {
      await owner.destroy();
    }
    return {
      server,
      superuserPassword,
      passwords,
      database,
      ownerUrl,
      appUrl: server.url(roleNames.app, passwords.app, database),
      stop: async () => {
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
