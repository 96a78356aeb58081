import { randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import { type Round, runLoad, summarize } from './load';
import { connections } from './scenario-list';

export interface OrdersResult {
  ordersPerSecond: ReturnType<typeof summarize>;
  p99: number;
  conflicts: number;
  deadlocks: number;
  rollbacks: number;
  invariantsHold: boolean;
  checks: string[];
  rounds: Round[];
}

const initialStock = 10_000_000;

/**
 * Scenario D: 32 concurrent clients place orders (1–3 lines) on 10 hot
 * products, then the invariants are checked: sold + remaining = initial for
 * every product, no negative stock, one order per idempotency key.
 */
export async function ordersUnderContention(
  keelUrl: string,
  owner: Kysely<DB>,
  superuser: Kysely<DB>,
  options: { rounds: number; seconds: number },
  log: (line: string) => void,
): Promise<OrdersResult> {
  const run = randomUUID().slice(0, 8).toUpperCase();
  const hot = await owner
    .insertInto('products')
    .values(
      Array.from({ length: 10 }, (_, i) => ({
        sku: `HOT-${run}-${i}`,
        name: `Hot Product ${i}`,
        price_cents: 999,
        stock_quantity: initialStock,
      })),
    )
    .returning('id')
    .execute();
  const tokens: string[] = [];
  const userIds: string[] = [];
  for (let i = 0; i < connections; i += 1) {
    const response = await fetch(`${keelUrl}/trpc/auth.register?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        0: {
          json: {
            email: `hot-${run}-${i}@keel.dev`.toLowerCase(),
            password: 'bench-password-123',
            displayName: 'Hot',
          },
        },
      }),
    });
    const body = (await response.json()) as [
      { result: { data: { json: { token: string; user: { id: string } } } } },
    ];
    tokens.push(body[0].result.data.json.token);
    userIds.push(body[0].result.data.json.user.id);
  }
  const stats = async () =>
    (
      await sql<{ deadlocks: number; rollbacks: number }>`
        select deadlocks::int as deadlocks, xact_rollback::int as rollbacks
        from pg_stat_database where datname = current_database()`.execute(superuser)
    ).rows[0] ?? { deadlocks: 0, rollbacks: 0 };
  const before = await stats();
  let n = 0;
  const next = () => {
    n += 1;
    const lines = 1 + (n % 3);
    const start = n % hot.length;
    const items = Array.from({ length: lines }, (_, k) => ({
      productId: hot[(start + k * 3) % hot.length]?.id ?? '',
      quantity: 1,
    }));
    return {
      path: '/trpc/orders.place?batch=1',
      body: JSON.stringify({ 0: { json: { idempotencyKey: randomUUID(), items } } }),
      headers: { authorization: `Bearer ${tokens[n % tokens.length]}` },
    };
  };
  const rounds: Round[] = [];
  await runLoad({ url: keelUrl, connections, seconds: 2, method: 'POST', next });
  for (let round = 1; round <= options.rounds; round += 1) {
    const result = await runLoad({
      url: keelUrl,
      connections,
      seconds: options.seconds,
      method: 'POST',
      next,
    });
    rounds.push(result);
    log(
      `  D round ${round} ${Math.round(result.requestsPerSecond)} orders/s  p99 ${result.p99} ms  non-2xx ${result.non2xx}`,
    );
  }
  const after = await stats();

  const checks: string[] = [];
  const stock = await sql<{ id: string; remaining: number; sold: number }>`
    select p.id, p.stock_quantity as remaining,
      coalesce((select sum(i.quantity) from order_items i join orders o on o.id = i.order_id
                where i.product_id = p.id and o.status <> 'cancelled'), 0)::int as sold
    from products p where p.id in (${sql.join(hot.map((h) => h.id))})`.execute(owner);
  const balanced = stock.rows.every(
    (r) => r.remaining + r.sold === initialStock && r.remaining >= 0,
  );
  checks.push(`sold + remaining = ${initialStock} and stock >= 0 for all 10 products: ${balanced}`);
  const duplicates = await sql<{ n: number }>`
    select count(*)::int as n from (select user_id, idempotency_key from orders
      where user_id in (${sql.join(userIds)}) group by 1, 2 having count(*) > 1) d`.execute(owner);
  const unique = duplicates.rows[0]?.n === 0;
  checks.push(`one order per idempotency key: ${unique}`);

  // Leave the shared bench data as it was. autocannon stops without waiting
  // for requests still in flight, so an order may land after a first delete.
  const hotIds = hot.map((h) => h.id);
  for (let attempt = 1; ; attempt += 1) {
    await new Promise((r) => setTimeout(r, 500));
    try {
      await owner.transaction().execute(async (trx) => {
        await trx.deleteFrom('orders').where('user_id', 'in', userIds).execute();
        await trx.deleteFrom('sessions').where('user_id', 'in', userIds).execute();
        await trx.deleteFrom('users').where('id', 'in', userIds).execute();
        await trx.deleteFrom('products').where('id', 'in', hotIds).execute();
      });
      break;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }

  return {
    ordersPerSecond: summarize(rounds.map((r) => r.requestsPerSecond)),
    p99: summarize(rounds.map((r) => r.p99)).median,
    conflicts: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    deadlocks: after.deadlocks - before.deadlocks,
    rollbacks: after.rollbacks - before.rollbacks,
    invariantsHold: balanced && unique,
    checks,
    rounds,
  };
}
