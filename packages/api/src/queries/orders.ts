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
 * Places an order in one READ COMMITTED transaction of six statements: lock
 * the customer's row (their orders are placed one at a time, so the cap on
 * unpaid orders cannot be raced), count their unpaid orders, lock the
 * products in id order (concurrent multi-line orders cannot deadlock) and
 * read today's prices, claim the idempotency key by inserting the order
 * (`ON CONFLICT DO NOTHING RETURNING`), decrement stock, write the items.
 *
 * The claim is the only idempotency check: when it inserts nothing, the key
 * is taken (by a committed order; a concurrent claim of the same key waits
 * for the other transaction and then sees its outcome), and the first order
 * is returned if its lines are the same, a CONFLICT if not. A replay is
 * answered even when the customer is at the cap or the stock is gone. Every
 * check after the claim (cap, product, stock, currency) throws, which rolls
 * the claim back with everything else: nothing is half-written.
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
        // Over the lines that can be sold: an order refused below for a
        // missing product or short stock is refused with that reason, never
        // for a total made of lines it cannot have.
        const total = wanted.reduce((sum, line) => {
          const product = byId.get(line.productId);
          return product?.is_active && product.stock_quantity >= line.quantity
            ? sum + product.price_cents * line.quantity
            : sum;
        }, 0);
        const currencies = new Set(products.map((p) => p.currency));

        const created = await trx
          .insertInto('orders')
          .values({
            user_id: userId,
            status: 'pending',
            total_cents: total,
            currency: products[0]?.currency ?? 'USD',
            idempotency_key: idempotencyKey,
          })
          .onConflict((oc) =>
            oc.columns(['user_id', 'idempotency_key']).where('deleted_at', 'is', null).doNothing(),
          )
          .returning(orderColumns)
          .executeTakeFirst();
        if (!created) return replay(trx, userId, idempotencyKey, lines);

        if (pending >= maxPendingOrders) {
          throw new TooManyRequests(
            `you have ${pending} unpaid orders; pay or cancel one before placing another`,
          );
        }
        const priced = wanted.map((line) => {
          const product = byId.get(line.productId);
          if (!product?.is_active) {
            throw new NotFound(`product ${line.productId} does not exist`);
          }
          if (product.stock_quantity < line.quantity) {
            throw new OutOfStock(product, product.stock_quantity, line.quantity);
          }
          return { line, product };
        });
        if (currencies.size > 1) {
          throw new InvalidRequest('all products of an order must have the same currency');
        }
        // Decrement all lines in one statement; the CHECK (stock_quantity >= 0)
        // backs up the check above. Raw SQL: the builder cannot alias unnest columns.
        await sql`
          update products set stock_quantity = products.stock_quantity - w.quantity
          from unnest(${wanted.map((l) => l.productId)}::uuid[], ${wanted.map((l) => l.quantity)}::integer[])
            as w(id, quantity)
          where products.id = w.id`.execute(trx);
        // The inserted rows are the answer: no read-back statement.
        const items = await trx
          .insertInto('order_items')
          .values(
            priced.map(({ line, product }) => ({
              order_id: created.id,
              product_id: product.id,
              quantity: line.quantity,
              unit_price_cents: product.price_cents,
              product_name: product.name,
            })),
          )
          .returning(itemColumns)
          .execute();
        return { order: { ...created, items }, replayed: false };
      }),
    5,
    observer,
  );
}

function findByKey(db: Db, userId: string, idempotencyKey: string): Promise<Order | undefined> {
  return selectOrders(db)
    .where('orders.user_id', '=', userId)
    .where('orders.idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

async function replay(
  db: Db,
  userId: string,
  idempotencyKey: string,
  lines: OrderLine[],
): Promise<{ order: Order; replayed: boolean }> {
  const existing = await findByKey(db, userId, idempotencyKey);
  // The claim saw a committed order with this key; it can only be gone if it
  // was deleted since, and then the next attempt claims the key anew.
  if (!existing) throw new RetryTransaction('the order with this key disappeared');
  if (!sameLines(existing, lines)) {
    throw new Conflict('idempotencyKey was already used for an order with different items');
  }
  return { order: existing, replayed: true };
}

/**
 * Moves an order to `to` if the move is allowed; cancelling puts the items
 * back into stock in the same transaction. Rows are locked order first, then
 * products in id order, as `placeOrder` does.
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
      if (to === 'cancelled') {
        const lines = await trx
          .selectFrom('order_items')
          .select(['product_id', 'quantity'])
          .where('order_id', '=', id)
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
        await sql`
          update products set stock_quantity = products.stock_quantity + r.quantity
          from unnest(${lines.map((l) => l.product_id)}::uuid[], ${lines.map((l) => l.quantity)}::integer[])
            as r(id, quantity)
          where products.id = r.id`.execute(trx);
      }
      await trx.updateTable('orders').set({ status: to }).where('id', '=', id).execute();
      const updated = await findOrder(trx, id, scope);
      if (!updated) throw new Error('unreachable: the order was just updated');
      return updated;
    }),
  );
}
