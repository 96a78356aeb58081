import type { DB, Orders } from '@keel/db';
import {
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  sql,
  type Transaction,
} from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { Conflict, InvalidRequest, NotFound, OutOfStock, TooManyRequests } from '../domain-errors';
import { type KeysetSort, type Page, paginate } from '../pagination';
import { type RetryObserver, RetryTransaction, withRetry } from '../retry';
import type { SameType } from '../same-type';

/** Every status, in lifecycle order. */
export const orderStatuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
/**
 * An order's status. Written out (not `Selectable<Orders>['status']`) so the
 * client's inlined types carry the union itself; the check below keeps it
 * equal to the generated type (orders_status_check).
 */
export type OrderStatus = (typeof orderStatuses)[number];
const statusesMatchTheSchema: SameType<OrderStatus, Selectable<Orders>['status']> = true;
void statusesMatchTheSchema;

/** Allowed status moves; everything else is refused with the move named. */
const allowedMoves: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

export interface OrderItem {
  id: string;
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: number;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  idempotencyKey: string;
  placedAt: Date;
  createdAt: Date;
  updatedAt: Date;
  items: OrderItem[];
}

type Db = Kysely<DB> | Transaction<DB>;

const byNewest = {
  name: 'orders.newest',
  direction: 'desc',
  columns: [
    { ref: 'orders.created_at', type: 'timestamptz' },
    { ref: 'orders.id', type: 'uuid' },
  ],
} as const satisfies KeysetSort;

const itemColumns = [
  'order_items.id',
  'order_items.product_id as productId',
  'order_items.product_name as productName',
  'order_items.quantity',
  'order_items.unit_price_cents as unitPriceCents',
] as const;

const orderColumns = [
  'orders.id',
  'orders.user_id as userId',
  'orders.status',
  'orders.total_cents as totalCents',
  'orders.currency',
  'orders.idempotency_key as idempotencyKey',
  'orders.placed_at as placedAt',
  'orders.created_at as createdAt',
  'orders.updated_at as updatedAt',
] as const;

function items(eb: ExpressionBuilder<DB, 'orders'>) {
  return jsonArrayFrom(
    eb
      .selectFrom('order_items')
      .select(itemColumns)
      .whereRef('order_items.order_id', '=', 'orders.id')
      .where('order_items.deleted_at', 'is', null)
      .orderBy('order_items.created_at')
      .orderBy('order_items.id'),
  ).as('items');
}

/** Orders with their items in the same statement (no N+1). */
function selectOrders(db: Db) {
  return db
    .selectFrom('orders')
    .select((eb) => [...orderColumns, items(eb)])
    .where('orders.deleted_at', 'is', null);
}

/** Whose orders a query may see: one user's, or (admins) everyone's. */
export type OrderScope = { userId: string } | { allUsers: true };

/** A keyset page of orders, newest first, each with its items. One statement. */
export function listOrders(
  db: Db,
  scope: OrderScope,
  filter: { status?: OrderStatus | undefined },
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<Order>> {
  let query = selectOrders(db);
  if ('userId' in scope) query = query.where('orders.user_id', '=', scope.userId);
  if (filter.status) query = query.where('orders.status', '=', filter.status);
  return paginate(query, byNewest, page);
}

/** One order with its items, if the scope may see it. One statement. */
export function findOrder(db: Db, id: string, scope: OrderScope): Promise<Order | undefined> {
  let query = selectOrders(db).where('orders.id', '=', id);
  if ('userId' in scope) query = query.where('orders.user_id', '=', scope.userId);
  return query.executeTakeFirst();
}

export interface OrderLine {
  productId: string;
  quantity: number;
}

function sameLines(order: Order, lines: OrderLine[]): boolean {
  const key = (l: OrderLine) => `${l.productId}:${l.quantity}`;
  const a = order.items.map((i) => key({ productId: i.productId, quantity: i.quantity })).sort();
  const b = lines.map(key).sort();
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Places an order in one READ COMMITTED transaction of four statements: lock
 * the customer's row (their orders are placed one at a time, so the cap on
 * unpaid orders cannot be raced), count their unpaid orders, lock the
 * products in id order (concurrent multi-line orders cannot deadlock) and
 * read today's prices, then one statement that claims the idempotency key by
 * inserting the order (`ON CONFLICT DO NOTHING RETURNING`) and, only if the
 * claim inserted it, decrements stock and writes the items. The hot product
 * rows stay locked for that one statement and the commit.
 *
 * The claim is the only idempotency check on the way to a new order: when
 * it inserts nothing, the key is taken (by a committed order; a concurrent
 * claim of the same key waits for the other transaction and then sees its
 * outcome), and the first order is returned if its lines are the same, a
 * CONFLICT if not. The cap, products, stock and currency are checked on the
 * locked rows before that statement; an order refused there is first looked
 * up by its key, so that a replay is answered even at the cap or once the
 * stock is gone. Nothing is half-written: the statement is all or nothing.
 */
export async function placeOrder(
  db: Kysely<DB>,
  userId: string,
  idempotencyKey: string,
  lines: OrderLine[],
  maxPendingOrders = Number.POSITIVE_INFINITY,
  observer?: RetryObserver,
): Promise<{ order: Order; replayed: boolean }> {
  const wanted = [...lines].sort((a, b) => (a.productId < b.productId ? -1 : 1));
  return withRetry(
    () =>
      db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', userId)
          .forNoKeyUpdate()
          .executeTakeFirstOrThrow();
        // A statement of its own, after the lock: it sees every order
        // committed before the lock was granted.
        const { pending } = await trx
          .selectFrom('orders')
          .select((eb) => eb.fn.countAll<number>().as('pending'))
          .where('user_id', '=', userId)
          .where('status', '=', 'pending')
          .where('deleted_at', 'is', null)
          .executeTakeFirstOrThrow();
        const products = await trx
          .selectFrom('products')
          .select(['id', 'sku', 'name', 'price_cents', 'currency', 'stock_quantity', 'is_active'])
          .where(
            'id',
            'in',
            wanted.map((l) => l.productId),
          )
          .where('deleted_at', 'is', null)
          .orderBy('id')
          .forUpdate()
          .execute();
        const byId = new Map(products.map((p) => [p.id, p]));

        const refusal = refuse(wanted, byId, pending, maxPendingOrders);
        if (refusal) {
          // A replay of an order placed earlier is answered, whatever has changed since.
          const existing = await findByKey(trx, userId, idempotencyKey);
          if (existing) return replayOf(existing, lines);
          throw refusal;
        }

        const priced = wanted.map((line) => ({ line, product: byId.get(line.productId) }));
        const total = priced.reduce(
          (sum, { line, product }) => sum + (product?.price_cents ?? 0) * line.quantity,
          0,
        );
        // Raw SQL: one statement with data-modifying CTEs, which the builder
        // cannot alias unnest columns in. Values travel as parameters.
        const { rows } = await sql<Order>`
          with claim as (
            insert into orders (user_id, status, total_cents, currency, idempotency_key)
            values (${userId}, 'pending', ${total}, ${products[0]?.currency ?? 'USD'}, ${idempotencyKey})
            on conflict (user_id, idempotency_key) where deleted_at is null do nothing
            returning id, user_id, status, total_cents, currency, idempotency_key,
              placed_at, created_at, updated_at
          ), stock as (
            -- The CHECK (stock_quantity >= 0) backs up the check above.
            update products set stock_quantity = products.stock_quantity - w.quantity
            from unnest(${wanted.map((l) => l.productId)}::uuid[], ${wanted.map((l) => l.quantity)}::integer[])
              as w(id, quantity)
            where products.id = w.id and exists (select from claim)
          ), items as (
            insert into order_items (order_id, product_id, quantity, unit_price_cents, product_name)
            select claim.id, l.product_id, l.quantity, l.unit_price_cents, l.product_name
            from claim, unnest(
              ${priced.map(({ line }) => line.productId)}::uuid[],
              ${priced.map(({ line }) => line.quantity)}::integer[],
              ${priced.map(({ product }) => product?.price_cents ?? 0)}::bigint[],
              ${priced.map(({ product }) => product?.name ?? '')}::text[]
            ) as l(product_id, quantity, unit_price_cents, product_name)
            returning id, product_id, product_name, quantity, unit_price_cents
          )
          select claim.id, claim.user_id as "userId", claim.status,
            claim.total_cents as "totalCents", claim.currency,
            claim.idempotency_key as "idempotencyKey", claim.placed_at as "placedAt",
            claim.created_at as "createdAt", claim.updated_at as "updatedAt",
            (select coalesce(json_agg(json_build_object(
                'id', items.id, 'productId', items.product_id,
                'productName', items.product_name, 'quantity', items.quantity,
                'unitPriceCents', items.unit_price_cents) order by items.id), '[]')
              from items) as items
          from claim`.execute(trx);
        const created = rows[0];
        if (created) return { order: created, replayed: false };
        // The key is taken: the claim inserted nothing, so nothing was written.
        const existing = await findByKey(trx, userId, idempotencyKey);
        // Only a deleted order could be gone by now; the next attempt claims the key anew.
        if (!existing) throw new RetryTransaction('the order with this key disappeared');
        return replayOf(existing, lines);
      }),
    5,
    observer,
  );
}

/** Why an order of `wanted` cannot be placed now, or null when it can. */
function refuse(
  wanted: OrderLine[],
  byId: Map<
    string,
    {
      id: string;
      name: string;
      sku: string;
      currency: string;
      is_active: boolean;
      stock_quantity: number;
    }
  >,
  pending: number,
  maxPendingOrders: number,
): Error | null {
  if (pending >= maxPendingOrders) {
    return new TooManyRequests(
      `you have ${pending} unpaid orders; pay or cancel one before placing another`,
    );
  }
  for (const line of wanted) {
    const product = byId.get(line.productId);
    if (!product?.is_active) return new NotFound(`product ${line.productId} does not exist`);
    if (product.stock_quantity < line.quantity)
      return new OutOfStock(product, product.stock_quantity, line.quantity);
  }
  if (new Set([...byId.values()].map((p) => p.currency)).size > 1) {
    return new InvalidRequest('all products of an order must have the same currency');
  }
  return null;
}

function findByKey(db: Db, userId: string, idempotencyKey: string): Promise<Order | undefined> {
  return selectOrders(db)
    .where('orders.user_id', '=', userId)
    .where('orders.idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

function replayOf(existing: Order, lines: OrderLine[]): { order: Order; replayed: boolean } {
  if (!sameLines(existing, lines)) {
    throw new Conflict('idempotencyKey was already used for an order with different items');
  }
  return { order: existing, replayed: true };
}

/**
 * Moves an order to `to` if the move is allowed; cancelling goes through
 * `cancelAndRestock`, the one way an order is cancelled. Rows are locked
 * order first, then products in id order, as `placeOrder` does.
 */
export async function changeOrderStatus(
  db: Kysely<DB>,
  id: string,
  to: OrderStatus,
  scope: OrderScope,
): Promise<Order> {
  return withRetry(() =>
    db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom('orders')
        .select(['id', 'status'])
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .forUpdate();
      if ('userId' in scope) query = query.where('user_id', '=', scope.userId);
      const order = await query.executeTakeFirst();
      if (!order) throw new NotFound('order not found');
      const from = order.status;
      if (!allowedMoves[from]?.includes(to)) {
        throw new InvalidRequest(`an order cannot move from ${from} to ${to}`);
      }
      if (to === 'cancelled') await cancelAndRestock(trx, id);
      else await trx.updateTable('orders').set({ status: to }).where('id', '=', id).execute();
      const updated = await findOrder(trx, id, scope);
      if (!updated) throw new Error('unreachable: the order was just updated');
      return updated;
    }),
  );
}

/**
 * Cancels an order and puts its items back into stock, in the caller's
 * transaction, which has locked the order's row and checked that it may be
 * cancelled. The one implementation behind `orders.cancel`, an admin's
 * cancellation and the expiry of unpaid orders (`expireOverdueOrders`), so
 * stock comes back the same way, exactly once: the order's row lock makes
 * every other path wait and then find it cancelled.
 */
export async function cancelAndRestock(trx: Transaction<DB>, orderId: string): Promise<void> {
  const lines = await trx
    .selectFrom('order_items')
    .select(['product_id', 'quantity'])
    .where('order_id', '=', orderId)
    .where('deleted_at', 'is', null)
    .orderBy('product_id')
    .execute();
  await trx
    .selectFrom('products')
    .select('id')
    .where(
      'id',
      'in',
      lines.map((l) => l.product_id),
    )
    .orderBy('id')
    .forUpdate()
    .execute();
  // unnest pairs each product with its quantity in one statement.
  await sql`
    update products set stock_quantity = products.stock_quantity + r.quantity
    from unnest(${lines.map((l) => l.product_id)}::uuid[], ${lines.map((l) => l.quantity)}::integer[])
      as r(id, quantity)
    where products.id = r.id`.execute(trx);
  await trx.updateTable('orders').set({ status: 'cancelled' }).where('id', '=', orderId).execute();
}
