import { getConstructionPlans } from 'pg-boss';

/** The schema of background work: the job queue's tables and the order-event outbox. */
export const queueSchema = 'keel_jobs';

/**
 * The SQL that installs the job queue (pg-boss) in `keel_jobs`, without the
 * transaction pg-boss wraps it in: migration 0011 runs it inside the
 * migrator's own transaction. The migration carries a frozen copy (an applied
 * migration never changes); a test compares the two, so upgrading pg-boss to
 * a release with another schema fails until a migration moves the schema on.
 *
 * @example
 * ```ts
 * import { queueConstructionSql } from '@keel/worker';
 * console.log(queueConstructionSql());
 * ```
 */
export function queueConstructionSql(): string {
  const plans = getConstructionPlans(queueSchema);
  const body = plans.trim();
  if (!body.startsWith('BEGIN;') || !body.endsWith('COMMIT;')) {
    throw new Error('pg-boss construction plans are no longer one BEGIN … COMMIT block');
  }
  return `${body.slice('BEGIN;'.length, -'COMMIT;'.length).trim()}\n`;
}
