import { randomUUID } from 'node:crypto';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';

export interface StatementResult {
  ordersList: number;
  byId: Record<string, number>;
}

/** Creates a customer with orders of 1, 10 and 50 items (plus 17 more) and returns its token and order ids. */
export async function statementFixtures(keelUrl: string, owner: Kysely<DB>) {
  const email = `bench-${randomUUID()}@keel.dev`;
  const register = await post(keelUrl, 'auth.register', {
    email,
    password: 'bench-password-123',
    displayName: 'Bench',
  });
  const token = register.token as string;
  const products = await owner
    .insertInto('products')
    .values(
      Array.from({ length: 50 }, (_, i) => ({
        sku: `BENCH-C-${randomUUID().slice(0, 8).toUpperCase()}-${i}`,
        name: `Statement Probe ${i}`,
        price_cents: 100 + i,
        stock_quantity: 1_000_000,
      })),
    )
    .returning('id')
    .execute();
  const place = async (lines: number) =>
    (
      await post(
        keelUrl,
        'orders.place',
        {
          idempotencyKey: randomUUID(),
          items: products.slice(0, lines).map((p) => ({ productId: p.id, quantity: 1 })),
        },
        token,
      )
    ).id as string;
  const byLines: Record<string, string> = {};
  for (const lines of [1, 10, 50]) byLines[lines] = await place(lines);
  for (let i = 0; i < 17; i += 1) await place(1 + (i % 5));
  const cleanup = async () => {
    // Leave the shared bench data as it was.
    const user = await owner
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirst();
    if (user) {
      await owner.deleteFrom('orders').where('user_id', '=', user.id).execute();
      await owner.deleteFrom('sessions').where('user_id', '=', user.id).execute();
      await owner.deleteFrom('users').where('id', '=', user.id).execute();
    }
    await owner
      .deleteFrom('products')
      .where(
        'id',
        'in',
        products.map((p) => p.id),
      )
      .execute();
  };
  return { token, byLines, cleanup };
}

async function post(keelUrl: string, path: string, input: object, token?: string) {
  const response = await fetch(`${keelUrl}/trpc/${path}?batch=1`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ 0: { json: input } }),
  });
  const body = (await response.json()) as [
    { result?: { data: { json: Record<string, unknown> } } },
  ];
  const data = body[0]?.result?.data.json;
  if (!response.ok || !data) throw new Error(`${path} failed: ${JSON.stringify(body)}`);
  return data;
}

/**
 * Scenario C: SQL statements per request, counted by pg_stat_statements for
 * keel_app, excluding the one session lookup (and its rare touch) every
 * signed-in call makes.
 */
export async function statementsPerRequest(
  keelUrl: string,
  superuser: Kysely<DB>,
  fixtures: { token: string; byLines: Record<string, string> },
): Promise<StatementResult> {
  const count = async (call: () => Promise<unknown>) => {
    await sql`select monitoring.pg_stat_statements_reset()`.execute(superuser);
    await call();
    const { rows } = await sql<{ calls: number }>`
      select coalesce(sum(calls), 0)::int as calls from monitoring.pg_stat_statements s
      join pg_roles r on r.oid = s.userid
      where r.rolname = 'keel_app' and s.query not ilike '%"sessions"%'`.execute(superuser);
    return rows[0]?.calls ?? -1;
  };
  const get = (path: string, input: object) => async () => {
    const response = await fetch(
      `${keelUrl}/trpc/${path}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: input } }))}`,
      { headers: { authorization: `Bearer ${fixtures.token}` } },
    );
    if (!response.ok) throw new Error(`${path} failed with ${response.status}`);
    await response.arrayBuffer();
  };
  const ordersList = await count(get('orders.list', { limit: 20 }));
  const byId: Record<string, number> = {};
  for (const [lines, id] of Object.entries(fixtures.byLines))
    byId[lines] = await count(get('orders.byId', { id }));
  return { ordersList, byId };
}
