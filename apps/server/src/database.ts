import { createDb, type DB } from '@keel/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * The service's pool, with slow queries logged from Kysely's log hook: the
 * SQL text and the duration, never the parameter values.
 */
export function createServiceDb(config: Config, logger: Logger): Kysely<DB> {
  return createDb({
    connectionString: config.DATABASE_URL,
    maxConnections: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    sendStartupParameters: !config.DATABASE_BEHIND_POOLER,
    onPoolError: (err) =>
      logger.warn({ err: { message: err.message } }, 'idle database connection lost'),
    log(event) {
      if (event.queryDurationMillis >= config.SLOW_QUERY_MS) {
        logger.warn(
          { sql: event.query.sql, durationMs: Math.round(event.queryDurationMillis) },
          'slow query',
        );
      }
    },
  });
}
