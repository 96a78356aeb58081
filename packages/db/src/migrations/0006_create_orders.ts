import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

const maxSafeInteger = sql.lit(Number.MAX_SAFE_INTEGER);

export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'orders', {
    // ON DELETE RESTRICT: orders are financial records; a user who has orders
    // cannot be hard-deleted (users are soft-deleted instead).
    // ON UPDATE CASCADE: if an operator re-keys a user, the orders follow.
    // The composite index below leads with user_id, so no separate FK index.
    foreignKeys: [
      {
        column: 'user_id',
        references: 'users',
        onDelete: 'restrict',
        onUpdate: 'cascade',
        indexed: false,
      },
    ],
    columns: (t) =>
      t
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('total_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'uuid', (c) => c.notNull())
        .addColumn('placed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`current_timestamp`))
        .addCheckConstraint(
          'orders_status_check',
          sql`status in ('pending', 'paid', 'shipped', 'delivered', 'cancelled')`,
        )
        .addCheckConstraint(
          'orders_total_cents_check',
          sql`total_cents between 0 and ${maxSafeInteger}`,
        )
        .addCheckConstraint('orders_currency_check', sql`currency ~ '^[A-Z]{3}$'`),
  });
  const live = [sql.ref('deleted_at'), 'is', null] as const;
  // A retried request with the same key can never create a second order.
  await db.schema
    .createIndex('orders_user_id_idempotency_key_key')
    .on('orders')
    .columns(['user_id', 'idempotency_key'])
    .unique()
    .where(...live)
    .execute();
  // orders.list for one user, newest first (also serves the foreign key).
  await db.schema
    .createIndex('orders_user_id_created_at_id_idx')
    .on('orders')
    .columns(['user_id', 'created_at desc', 'id desc'])
    .where(...live)
    .execute();
  // orders.list for admins across all users, newest first.
  await db.schema
    .createIndex('orders_created_at_id_idx')
    .on('orders')
    .columns(['created_at desc', 'id desc'])
    .where(...live)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropStandardTable(db, 'orders');
}
