import { type Kysely, sql } from 'kysely';
import { createStandardTable } from '../migration-helpers';
import { roleNames } from '../roles';

// The transactional outbox of order events, in `keel_jobs` (the schema of
// background work, beside the job queue's own tables). A trigger on `orders`
// writes one event for every insert and every status change, in the same
// transaction as the change, so no code path (a procedure, the expiry job, an
// operator's UPDATE) can change an order without its event, and a crash
// between the commit and the delivery loses nothing: the worker delivers
// what is still pending here.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create schema keel_jobs`.execute(db);
  const jobs = db.withSchema('keel_jobs');
  await createStandardTable(db, 'order_events', {
    schema: 'keel_jobs',
    // ON DELETE CASCADE: an event only describes its order. Orders are
    // soft-deleted, so this happens only when an operator hard-deletes one.
    // The (order_id, position) index below leads with order_id.
    foreignKeys: [
      {
        column: 'order_id',
        references: 'public.orders',
        onDelete: 'cascade',
        onUpdate: 'cascade',
        indexed: false,
      },
    ],
    columns: (t) =>
      t
        // Delivery order within an order: taken when the event is written,
        // after the order's row lock, so it follows the order of the changes.
        .addColumn('position', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) =>
          c.notNull().defaultTo(sql`clock_timestamp()`),
        )
        .addColumn('data', 'jsonb', (c) => c.notNull())
        .addColumn('delivery_status', 'text', (c) => c.notNull().defaultTo('pending'))
        .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'timestamptz', (c) =>
          c.notNull().defaultTo(sql`current_timestamp`),
        )
        .addColumn('last_error', 'text')
        .addColumn('delivered_at', 'timestamptz')
        .addCheckConstraint(
          'order_events_type_check',
          sql`type in ('order.placed', 'order.cancelled', 'order.expired', 'order.status_changed')`,
        )
        .addCheckConstraint(
          'order_events_delivery_status_check',
          sql`delivery_status in ('pending', 'delivered', 'failed')`,
        )
        .addCheckConstraint('order_events_attempt_count_check', sql`attempt_count >= 0`)
        .addCheckConstraint(
          'order_events_delivered_at_check',
          sql`(delivery_status = 'delivered') = (delivered_at is not null)`,
        ),
  });
  // An order's events in order: the next ones to deliver, and the foreign
  // key's lookups (a cascade from orders), so not partial.
  await jobs.schema
    .createIndex('order_events_order_id_position_idx')
    .on('order_events')
    .columns(['order_id', 'position'])
    .execute();
  // The sweep that finds orders with events due.
  await jobs.schema
    .createIndex('order_events_next_attempt_at_idx')
    .on('order_events')
    .column('next_attempt_at')
    .where(sql.ref('delivery_status'), '=', 'pending')
    .execute();
  // Failed deliveries for admins, newest first (keyset paged).
  await jobs.schema
    .createIndex('order_events_updated_at_id_idx')
    .on('order_events')
    .columns(['updated_at desc', 'id desc'])
    .where(sql.ref('delivery_status'), '=', 'failed')
    .execute();

  // The order as a receiver sees it: the same fields and names as the API's
  // Order. A function so every event carries the same shape.
  await sql`
    create function keel_jobs.order_snapshot(order_id uuid) returns jsonb
    language sql stable as $$
      select jsonb_build_object(
        'id', o.id, 'userId', o.user_id, 'status', o.status,
        'totalCents', o.total_cents, 'currency', o.currency,
        'idempotencyKey', o.idempotency_key, 'placedAt', o.placed_at,
        'createdAt', o.created_at, 'updatedAt', o.updated_at,
        'items', coalesce((
          select jsonb_agg(jsonb_build_object(
              'id', i.id, 'productId', i.product_id, 'productName', i.product_name,
              'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents)
            order by i.created_at, i.id)
          from public.order_items i
          where i.order_id = o.id and i.deleted_at is null), '[]'::jsonb))
      from public.orders o where o.id = order_snapshot.order_id
    $$`.execute(db);

  // AFTER triggers run once the whole statement is done, so the snapshot of
  // a new order sees the items its statement inserted. A cancellation is an
  // expiry when the transaction says so (keel.order_cancel_reason).
  await sql`
    create function keel_jobs.record_order_event() returns trigger
    language plpgsql as $$
    declare
      event_type text;
    begin
      if tg_op = 'INSERT' then
        event_type := 'order.placed';
      elsif new.status is not distinct from old.status then
        return null;
      elsif new.status = 'cancelled' and current_setting('keel.order_cancel_reason', true) = 'expired' then
        event_type := 'order.expired';
      elsif new.status = 'cancelled' then
        event_type := 'order.cancelled';
      else
        event_type := 'order.status_changed';
      end if;
      insert into keel_jobs.order_events (order_id, type, data)
      values (new.id, event_type, jsonb_strip_nulls(jsonb_build_object(
        'order', keel_jobs.order_snapshot(new.id),
        'previousStatus', case when tg_op = 'UPDATE' then old.status end)));
      -- Delivered at commit: wakes a worker at once (it also sweeps).
      perform pg_notify('keel_order_events', new.id::text);
      return null;
    end;
    $$`.execute(db);
  await sql`
    create trigger orders_record_event after insert or update of status on public.orders
    for each row execute function keel_jobs.record_order_event()`.execute(db);

  // No default privileges cover this schema: the service and the worker
  // write events and read them; reporting reads them.
  const app = sql.id(roleNames.app);
  const readonly = sql.id(roleNames.readonly);
  await sql`grant usage on schema keel_jobs to ${app}, ${readonly}`.execute(db);
  await sql`grant select, insert, update on keel_jobs.order_events to ${app}`.execute(db);
  await sql`grant select on keel_jobs.order_events to ${readonly}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger orders_record_event on public.orders`.execute(db);
  await sql`drop schema keel_jobs cascade`.execute(db);
}
