import { join } from 'node:path';
import { z } from 'zod';
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

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });
const optionalText = z.string().min(1).optional();

/**
 * Every variable the database tooling (`pnpm dev`'s database, `db:*`)
 * reads, validated in one place. `turbo.json` passes exactly the union of
 * this and the other apps' schemas through to tasks (tested).
 */
const toolingSchema = z.object({
  /** An external server's service URL; when set, nothing embedded starts. */
  DATABASE_URL: postgresUrl.optional(),
  /** Migrations, codegen and seeding as keel_owner; falls back to DATABASE_URL. */
  DATABASE_OWNER_URL: postgresUrl.optional(),
  /** `pnpm db:roles` only: a superuser (or CREATEROLE, CREATEDB) on an external server. */
  DATABASE_ADMIN_URL: postgresUrl.optional(),
  KEEL_DATA_DIR: optionalText,
  /** Tried first; a free port is taken when it is busy. */
  KEEL_PG_PORT: z.coerce.number().int().min(1).max(65_535).default(54_329),
  /** `log_min_duration_statement` of the embedded server, ms; -1 turns it off. */
  KEEL_PG_SLOW_QUERY_MS: z.coerce.number().int().min(-1).default(250),
  KEEL_DATABASE: z.string().min(1).default('keel'),
  POSTGRES_SUPERUSER_PASSWORD: optionalText,
  KEEL_OWNER_PASSWORD: optionalText,
  KEEL_APP_PASSWORD: optionalText,
  KEEL_READONLY_PASSWORD: optionalText,
  /** `1`: `pnpm dev` also starts a streaming replica of the embedded server. */
  KEEL_DEV_REPLICA: z.enum(['0', '1']).default('0'),
  /** `1` skips the PgBouncer suite on a machine that has no PgBouncer and cannot install it. */
  KEEL_SKIP_PGBOUNCER: z.enum(['0', '1']).default('0'),
  /** `1` skips the many-instances suite (servers behind HAProxy) on a machine that has no HAProxy and cannot install it. */
  KEEL_SKIP_HAPROXY: z.enum(['0', '1']).default('0'),
});

/** The database tooling's environment, validated. */
export type ToolingEnvironment = z.infer<typeof toolingSchema>;

/** The names of the variables the database tooling reads. */
export const toolingVariables = Object.keys(toolingSchema.shape);

/**
 * The database tooling's one reader of `process.env` (the server has its
 * own config module). Reports every problem at once, naming the variable.
 */
export function readToolingEnvironment(env: NodeJS.ProcessEnv = process.env): ToolingEnvironment {
  const result = toolingSchema.safeParse(env);
  if (!result.success) {
    throw new Error(
      `invalid database tooling environment:\n${result.error.issues
        .map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`)
        .join('\n')}`,
    );
  }
  return result.data;
}

/** Options for `openLocalDatabase` from the environment (see `readToolingEnvironment`). */
export function localDatabaseOptionsFromEnv(
  mode: LocalDatabaseOptions['mode'],
  env: NodeJS.ProcessEnv = process.env,
): LocalDatabaseOptions {
  const vars = readToolingEnvironment(env);
  return {
    ...(vars.DATABASE_URL ? { databaseUrl: vars.DATABASE_URL } : {}),
    ...(vars.DATABASE_OWNER_URL ? { databaseOwnerUrl: vars.DATABASE_OWNER_URL } : {}),
    dataDir: vars.KEEL_DATA_DIR ?? join(repositoryRoot, '.data', 'postgres'),
    preferredPort: vars.KEEL_PG_PORT,
    superuserPassword: vars.POSTGRES_SUPERUSER_PASSWORD ?? developmentPasswords.superuser,
    passwords: {
      owner: vars.KEEL_OWNER_PASSWORD ?? developmentPasswords.owner,
      app: vars.KEEL_APP_PASSWORD ?? developmentPasswords.app,
      readonly: vars.KEEL_READONLY_PASSWORD ?? developmentPasswords.readonly,
    },
    database: vars.KEEL_DATABASE,
    slowQueryMs: vars.KEEL_PG_SLOW_QUERY_MS,
    replica: vars.KEEL_DEV_REPLICA === '1',
    mode,
  };
}
