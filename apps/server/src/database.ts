import { createDbAndPool, type DB } from '@keel/db';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config';
import { currentRequestLog } from './http/request-log';
import type { Metrics } from './metrics';
import type { Tracing } from './tracing';

/**
 * A service pool (the primary's, or with `target` the replica's, sized and
 * set up the same way), with slow queries logged from Kysely's log hook: the
 * SQL text and the duration, never the parameter values.
 */
export function createServiceDb(
  config: Config,
  logger: Logger,
  instruments: { metrics?: Metrics | undefined; tracing?: Tracing | undefined } = {},
  target: { name: 'primary' | 'replica'; url: string } = {
    name: 'primary',
    url: config.DATABASE_URL,
  },
): Kysely<DB> {
  const { metrics, tracing } = instruments;
  const { db, pool } = createDbAndPool<DB>({
    connectionString: target.url,
    maxConnections: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    sendStartupParameters: !config.DATABASE_BEHIND_POOLER,
    // A transaction-mode pooler hands each transaction another server
    // connection, where a statement prepared on the last one does not exist.
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS && !config.DATABASE_BEHIND_POOLER,
    onPoolError: (err) =>
      logger.warn(
        { pool: target.name, err: { message: err.message } },
        'idle database connection lost',
      ),
    log(event) {
      tracing?.query(event.query.sql, event.queryDurationMillis, event.level === 'error');
      if (event.queryDurationMillis >= config.SLOW_QUERY_MS) {
        metrics?.slowQuery();
        // Inside a request, the line carries its request id.
        (currentRequestLog() ?? logger).warn(
          { sql: event.query.sql, durationMs: Math.round(event.queryDurationMillis) },
          'slow query',
        );
      }
    },
  });
  metrics?.watchPool(pool, config.DATABASE_POOL_MAX, target.name);
  return db;
}
