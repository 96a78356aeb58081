import { join } from 'node:path';
import type { LocalDatabaseOptions } from '../embedded/local-database';

/** The repository root, from this file's place in packages/platform/src/cli. */
export const repositoryRoot = join(import.meta.dirname, '..', '..', '..', '..');

/**
 * Development defaults, documented in `.env.example`. They only ever reach
 * the embedded server, which listens on 127.0.0.1 with TLS; production sets
 * DATABASE_URL and these are unused.
 */
export const developmentPasswords = {
  superuser: 'keel_superuser_dev',
  owner: 'keel_owner_dev',
  app: 'keel_app_dev',
  readonly: 'keel_readonly_dev',
} as const;

/**
 * The database tooling's one reader of `process.env` (the server has its
 * own config module).
 */
export function localDatabaseOptionsFromEnv(
  mode: LocalDatabaseOptions['mode'],
  env: NodeJS.ProcessEnv = process.env,
): LocalDatabaseOptions {
  const slowQueryMs = Number(env.KEEL_PG_SLOW_QUERY_MS ?? 250);
  const preferredPort = Number(env.KEEL_PG_PORT ?? 54329);
  if (!Number.isInteger(slowQueryMs))
    throw new Error('KEEL_PG_SLOW_QUERY_MS must be an integer (ms, -1 to disable)');
  if (!Number.isInteger(preferredPort) || preferredPort < 1 || preferredPort > 65535) {
    throw new Error('KEEL_PG_PORT must be a TCP port number');
  }
  return {
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.DATABASE_OWNER_URL ? { databaseOwnerUrl: env.DATABASE_OWNER_URL } : {}),
    dataDir: env.KEEL_DATA_DIR ?? join(repositoryRoot, '.data', 'postgres'),
    preferredPort,
    superuserPassword: env.POSTGRES_SUPERUSER_PASSWORD ?? developmentPasswords.superuser,
    passwords: {
      owner: env.KEEL_OWNER_PASSWORD ?? developmentPasswords.owner,
      app: env.KEEL_APP_PASSWORD ?? developmentPasswords.app,
      readonly: env.KEEL_READONLY_PASSWORD ?? developmentPasswords.readonly,
    },
    database: env.KEEL_DATABASE ?? 'keel',
    slowQueryMs,
    mode,
  };
}
