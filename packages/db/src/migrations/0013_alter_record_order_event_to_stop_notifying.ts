import { type Kysely, sql } from 'kysely';

// The orders trigger (migration 0010) stops sending NOTIFY: it still writes
// each event into the outbox in the order's transaction, and the worker now
// finds new events by polling the outbox (apps/worker/src/worker.ts).
//
// Why: PostgreSQL serialises the commits of every transaction that sent a
// NOTIFY (a database-wide lock taken at pre-commit and held through the
// commit's WAL flush), and an order's transaction holds its products' row
// locks until then. Scenario D of the bench (32 clients placing orders on 10
// hot products) measured 226–273 orders/s with the NOTIFY, 317 with only the
// NOTIFY removed, and 333 with no trigger at all: the NOTIFY was most of the
// outbox's cost. The body below is 0010's, minus the pg_notify.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function keel_jobs.record_order_event() returns trigger
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
      -- No NOTIFY: the worker polls for new events (migration 0013).
      insert into keel_jobs.order_events (order_id, type, data)
      values (new.id, event_type, jsonb_strip_nulls(jsonb_build_object(
        'order', keel_jobs.order_snapshot(new.id),
        'previousStatus', case when tg_op = 'UPDATE' then old.status end)));
      return null;
    end;
    $$`.execute(db);
}

// 0010's notifying version, exactly. A worker of this release no longer
// listens; the worker of 0010's release does.
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function keel_jobs.record_order_event() returns trigger
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
}
