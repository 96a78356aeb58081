import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'users', {
    columns: (t) =>
      t
        .addColumn('email', sql`citext`, (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().defaultTo('customer'))
        .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
        // One @, no spaces, a dot in the domain; RFC 5321 caps an address at 254 characters.
        .addCheckConstraint(
          'users_email_check',
          sql`char_length(email) <= 254 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$'`,
        )
        .addCheckConstraint(
          'users_display_name_check',
          sql`char_length(display_name) between 1 and 100 and display_name = btrim(display_name)`,
        )
        .addCheckConstraint(
          'users_password_hash_check',
          sql`char_length(password_hash) between 1 and 512`,
        )
        .addCheckConstraint('users_role_check', sql`role in ('customer', 'admin')`),
  });
  // Natural key among live rows: a deleted user's address can register again.
  await db.schema
    .createIndex('users_email_key')
    .on('users')
    .column('email')
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // users.list (admin): newest first, keyset on (created_at, id).
  await db.schema
    .createIndex('users_created_at_id_idx')
    .on('users')
    .columns(['created_at desc', 'id desc'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'users');
}
