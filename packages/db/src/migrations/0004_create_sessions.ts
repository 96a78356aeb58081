import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'sessions', {
    // ON DELETE CASCADE: a session means nothing without its user; removing a
    // user (a hard delete by an operator) must not leave bearer tokens behind.
    // ON UPDATE CASCADE: ids never change in Keel, but if an operator re-keys
    // a user, its sessions follow.
    foreignKeys: [
      { column: 'user_id', references: 'users', onDelete: 'cascade', onUpdate: 'cascade' },
    ],
    columns: (t) =>
      t
        // SHA-256 of the bearer token; the token itself is never stored.
        .addColumn('token_hash', 'bytea', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('last_used_at', 'timestamptz', (c) =>
          c.notNull().defaultTo(sql`current_timestamp`),
        )
        .addCheckConstraint('sessions_token_hash_check', sql`octet_length(token_hash) = 32`)
        .addCheckConstraint('sessions_expires_at_check', sql`expires_at > created_at`),
  });
  // Revoking is a soft delete; a live token hash is unique.
  await db.schema
    .createIndex('sessions_token_hash_key')
    .on('sessions')
    .column('token_hash')
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'sessions');
}
