import { type Kysely, sql } from 'kysely';
import { createStandardTable, dropStandardTable } from '../migration-helpers';

const maxSafeInteger = sql.lit(Number.MAX_SAFE_INTEGER);

// Paying orders and expiring the unpaid ones. `payments` keeps every attempt
// to pay an order, approved or declined: the provider's answer is a
// financial record, kept even when the order is not paid.
export async function up(db: Kysely<unknown>): Promise<void> {
  await createStandardTable(db, 'payments', {
    // ON DELETE RESTRICT: payments are financial records; an order that was
    // paid for cannot be hard-deleted. ON UPDATE CASCADE: they follow a re-keyed order.
    foreignKeys: [
      { column: 'order_id', references: 'orders', onDelete: 'restrict', onUpdate: 'cascade' },
    ],
    columns: (t) =>
      t
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('amount_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        // The provider's id for the charge; a declined attempt may have none.
        .addColumn('provider_reference', 'text')
        // Only the last four digits of a card are ever stored.
        .addColumn('card_last4', 'text')
        .addColumn('decline_reason', 'text')
        .addCheckConstraint('payments_status_check', sql`status in ('approved', 'declined')`)
        .addCheckConstraint(
          'payments_amount_cents_check',
          sql`amount_cents between 0 and ${maxSafeInteger}`,
        )
        .addCheckConstraint('payments_currency_check', sql`currency ~ '^[A-Z]{3}$'`)
        .addCheckConstraint('payments_card_last4_check', sql`card_last4 ~ '^[0-9]{4}$'`)
        .addCheckConstraint(
          'payments_decline_reason_check',
          sql`(status = 'declined') = (decline_reason is not null)`,
        ),
  });
  // An order is paid at most once.
  await db.schema
    .createIndex('payments_order_id_approved_key')
    .on('payments')
    .column('order_id')
    .unique()
    .where(sql.ref('status'), '=', 'approved')
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // The expiry sweep: unpaid orders, oldest first.
  await db.schema
    .createIndex('orders_placed_at_pending_idx')
    .on('orders')
    .column('placed_at')
    .where(sql.ref('status'), '=', 'pending')
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('orders_placed_at_pending_idx').execute();
  await dropStandardTable(db, 'payments');
}
