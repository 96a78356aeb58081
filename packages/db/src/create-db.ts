import { Kysely, type LogConfig, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from './generated/db';
import { kyselyPool } from './kysely-pool';

/** How to connect. Only `connectionString` is required. */
export interface DbConfig {
  /** `postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=…` */
  connectionString: string;
  /** Pool size. Keep `max × instances` below the server's `max_connections`. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection (pg's default waits forever). Default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Idle connections are closed after this. Default 30000 ms. */
  idleTimeoutMs?: number;
  /** Server-side `statement_timeout`, sent as a startup parameter. Default 15000 ms. */
  statementTimeoutMs?: number;
  /** Server-side `lock_timeout`. Default 5000 ms. */
  lockTimeoutMs?: number;
  /** Server-side `idle_in_transaction_session_timeout`. Default 30000 ms. */
  idleInTransactionTimeoutMs?: number;
  /** Shown in `pg_stat_activity`. Default `keel`. */
  applicationName?: string;
  /**
   * Send timeouts as startup parameters. Turn off behind PgBouncer, which
   * refuses unknown startup parameters; `keel_app` carries the same defaults
   * as role settings (see `appRoleSettings`).
   */
  sendStartupParameters?: boolean;
  /** Receives errors of idle pooled connections (a restarted server, say). */
  onPoolError?: (error: Error) => void;
  /** Kysely's query log hook (slow-query logging lives in the server). */
  log?: LogConfig;
  /**
   * Run reads and writes as named prepared statements (parsed and planned
   * once per connection). Default off; the service turns it on unless it is
   * behind a transaction-mode pooler. See `kyselyPool`.
   */
  preparedStatements?: boolean;
}

// int8 (bigint) arrives as a JS number: money is in cents and CHECK
// constraints keep it below 2^53, and count(*) is int8 too. The generated
// types map int8 to number to match (see `pnpm db:codegen`).
const int8Oid = 20;
const int8ArrayOid = 1016;
const dateOid = 1082;

// An int8[] in text form is `{1,2,NULL}`: no quoting, no nesting for our columns.
function parseInt8Array(value: string): (number | null)[] {
  const body = value.slice(1, -1);
  if (body === '') return [];
  return body.split(',').map((item) => (item === 'NULL' ? null : Number(item)));
}

const timestamptzOid = 1184;
const parseTimestamptzSlow = pg.types.getTypeParser(timestamptzOid, 'text') as (
  value: string,
) => Date;

/**
 * timestamptz in UTC ('2026-11-22 02:17:17.075123+00', what a server with
 * TimeZone UTC sends) parsed without regular expressions; anything else
 * (other offsets, BC, infinity, years before 100) goes to pg's own parser.
 * Same result, microseconds truncated to milliseconds as pg does.
 */
export function parseTimestamptz(value: string): Date {
  const n = value.length;
  // 'YYYY-MM-DD HH:MM:SS+00' is 22 characters; a fraction adds '.' and 1–6 digits.
  if (n >= 22 && n <= 29 && n !== 23 && value.endsWith('+00') && value.charCodeAt(10) === 32) {
    const digit = (i: number) => {
      const c = value.charCodeAt(i) - 48;
      return c >= 0 && c <= 9 ? c : Number.NaN;
    };
    const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
    let ms = 0;
    if (n > 22) {
      // The fraction's first three digits are the milliseconds (pg truncates the rest too).
      ms =
        value.charCodeAt(19) === 46
          ? digit(20) * 100 + (n > 24 ? digit(21) * 10 : 0) + (n > 25 ? digit(22) : 0)
          : Number.NaN;
    }
    const separatorsOk =
      value.charCodeAt(4) === 45 &&
      value.charCodeAt(7) === 45 &&
      value.charCodeAt(13) === 58 &&
      value.charCodeAt(16) === 58;
    if (separatorsOk && year >= 100) {
      const time = Date.UTC(
        year,
        digit(5) * 10 + digit(6) - 1,
        digit(8) * 10 + digit(9),
        digit(11) * 10 + digit(12),
        digit(14) * 10 + digit(15),
        digit(17) * 10 + digit(18),
        ms,
      );
      if (!Number.isNaN(time)) return new Date(time);
    }
  }
  return parseTimestamptzSlow(value);
}

/** Type parsers shared by every Keel pool; the generated types agree with them. */
export const keelTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === int8Oid) return (value: string) => Number(value);
    if (oid === int8ArrayOid) return parseInt8Array;
    if (oid === timestamptzOid && format !== 'binary') return parseTimestamptz;
    // A calendar date is not an instant; keep 'YYYY-MM-DD' as text.
    if (oid === dateOid) return (value: string) => value;
    return pg.types.getTypeParser(oid as Parameters<typeof pg.types.getTypeParser>[0], format);
  },
} as pg.CustomTypesConfig;

/**
 * Creates the pg pool and config with Keel's defaults. No module-level
 * singleton: whoever calls it owns the pool and ends it.
 *
 * @example
 * ```ts
 * import { createPool } from '@keel/db';
 * const pool = createPool({ connectionString: process.env.DATABASE_URL ?? '' });
 * await pool.query('select 1');
 * await pool.end();
 * ```
 */
export function createPool(config: DbConfig): pg.Pool {
  const startup =
    config.sendStartupParameters === false
      ? {}
      : {
          statement_timeout: config.statementTimeoutMs ?? 15_000,
          lock_timeout: config.lockTimeoutMs ?? 5_000,
          idle_in_transaction_session_timeout: config.idleInTransactionTimeoutMs ?? 30_000,
        };
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.maxConnections ?? 10,
    connectionTimeoutMillis: config.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: config.idleTimeoutMs ?? 30_000,
    application_name: config.applicationName ?? 'keel',
    types: keelTypes,
    ...startup,
  });
  // Without a listener, an idle connection killed by the server (restart,
  // pg_terminate_backend) would crash the process. The pool drops it and
  // opens a new one on the next query.
  pool.on('error', config.onPoolError ?? (() => {}));
  // A checked-out client has no pool listener: when the server ends its
  // connection mid-query (pg_terminate_backend, a shutdown), the query fails
  // with the cause and the client then emits 'error', which would crash the
  // process. The caller already has the error; the pool drops the client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * Creates a Kysely instance over a new pool. `db.destroy()` ends the pool.
 *
 * @example
 * ```ts
 * import { createDb } from '@keel/db';
 * const db = createDb({ connectionString: process.env.DATABASE_URL ?? '' });
 * const users = await db.selectFrom('users').select(['id', 'email']).limit(10).execute();
 * await db.destroy();
 * ```
 */
export function createDb<T = DB>(config: DbConfig): Kysely<T> {
  return createDbAndPool<T>(config).db;
}

/**
 * `createDb`, and the pool under it, for whoever reports its counters
 * (`totalCount`, `idleCount`, `waitingCount`). `db.destroy()` still ends it.
 */
export function createDbAndPool<T = DB>(config: DbConfig): { db: Kysely<T>; pool: pg.Pool } {
  const pool = createPool(config);
  const db = new Kysely<T>({
    dialect: new PostgresDialect({
      pool: kyselyPool(pool, { namedStatements: config.preparedStatements === true }),
    }),
    ...(config.log ? { log: config.log } : {}),
  });
  return { db, pool };
}
