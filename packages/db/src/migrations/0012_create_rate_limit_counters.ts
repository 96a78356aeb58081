import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

// The counters behind the sign-in limits (per address and per account), kept
// here so that every instance of the service counts into the same rows.
// UNLOGGED: a counter is written on every sign-in attempt and is worth
// nothing after a crash, so it skips the write-ahead log (PostgreSQL empties
// the table after a crash, and replicas do not receive it). keel_app reads,
// inserts, updates and deletes it through the default privileges that
// `applySchemaPrivileges` gives it on every table keel_owner creates.
export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'rate_limit_counters', {
    unlogged: true,
    columns: (t) =>
      t
        // What is counted: `<what>:<whom>`, e.g. `attempt:auth.login:192.0.2.1`.
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('hit_count', 'integer', (c) => c.notNull())
        .addColumn('last_hit_at', 'timestamptz', (c) => c.notNull())
        // After this the count is over: the next hit starts again from zero,
        // and any hit may delete the row.
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addCheckConstraint(
          'rate_limit_counters_key_check',
          sql`char_length(key) between 1 and 600`,
        )
        .addCheckConstraint('rate_limit_counters_hit_count_check', sql`hit_count > 0`),
  });
  // The upsert's conflict target: one live row per key.
  await db.schema
    .createIndex('rate_limit_counters_key_key')
    .on('rate_limit_counters')
    .column('key')
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // Expired rows are found by this index and deleted a few at a time by each hit.
  await db.schema
    .createIndex('rate_limit_counters_expires_at_idx')
    .on('rate_limit_counters')
    .column('expires_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'rate_limit_counters');
}
