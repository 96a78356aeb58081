// The end-to-end flows through PgBouncer in transaction pooling mode: a
// pooled server connection serves many clients, so anything Keel kept in a
// session (SET, named prepared statements, advisory locks, LISTEN, temp
// tables) would leak between requests or vanish. Set KEEL_SKIP_PGBOUNCER=1
// to skip this file on a machine without PgBouncer (CI installs it).
import { randomUUID } from 'node:crypto';
import { keelErrorCode, keelFieldErrors } from '@keel/client';
import { appRoleSettings, createDb, createPool, type DB } from '@keel/db';
import { readToolingEnvironment } from '@keel/platform';
import { createTestDatabase, type TestDatabase } from '@keel/platform/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningApp, startApp } from './harness';
import { type RunningPgBouncer, startPgBouncer } from './pgbouncer';

const skip = readToolingEnvironment().KEEL_SKIP_PGBOUNCER === '1';
if (skip) console.warn('KEEL_SKIP_PGBOUNCER=1: the PgBouncer suite is skipped');

const catalogue = Array.from({ length: 37 }, (_, i) => ({
  sku: `PGB-${String(i).padStart(3, '0')}`,
  name: `Pooled ${i}`,
  price_cents: 100 + (i % 7) * 50,
  stock_quantity: 5,
}));

type QueryMethod = (...args: unknown[]) => unknown;

/**
 * node-postgres's `Client.prototype`, reached through a pool's client (this
 * package has no types for `pg` itself): wrapping its `query` sees every
 * statement any pool sends, with its options.
 */
async function clientPrototype(url: string): Promise<{ query: QueryMethod }> {
  const pool = createPool({
    connectionString: url,
    sendStartupParameters: false,
    maxConnections: 1,
  });
  try {
    const client = await pool.connect();
    client.release();
    return Object.getPrototypeOf(client);
  } finally {
    await pool.end();
  }
}

async function caught(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(skip)('Keel behind PgBouncer in transaction pooling mode', () => {
  let testDb: TestDatabase;
  let bouncer: RunningPgBouncer;
  /** The app's pool, through PgBouncer; every statement it sends is collected. */
  let db: Kysely<DB>;
  let app: RunningApp;
  const statements: string[] = [];
  /**
   * The first argument of every call into node-postgres, to catch named
   * (prepared) statements. A plain wrapper, not a vitest spy: vitest clears a
   * spy's calls before each test, and this one collects over the whole file.
   */
  const driverQueries: unknown[] = [];
  let restoreDriver: (() => void) | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    bouncer = await startPgBouncer(testDb, { poolSize: 5 });
    const prototype = await clientPrototype(bouncer.url);
    const original = prototype.query;
    prototype.query = function (this: unknown, ...args: unknown[]) {
      driverQueries.push(args[0]);
      return original.apply(this, args);
    };
    restoreDriver = () => {
      prototype.query = original;
    };
    db = createDb({
      connectionString: bouncer.url,
      sendStartupParameters: false,
      maxConnections: 10,
      log: (event) => {
        statements.push(event.query.sql);
      },
    });
    await db.insertInto('products').values(catalogue).execute();
    app = await startApp(db, { authRateLimitPerMinute: 1_000 });
  }, 180_000);

  afterAll(async () => {
    restoreDriver?.();
    await app?.close();
    await db?.destroy();
    await bouncer?.stop();
    await testDb?.destroy();
  });

  async function customer(email: string) {
    const { token, user } = await app.client().auth.register.mutate({
      email,
      password: 'pooled-password-123',
      displayName: email.split('@')[0] ?? 'Pooled',
    });
    return { token, user, keel: app.client(token) };
  }

  /** PgBouncer's admin console: `SHOW …` rows for this test database. */
  async function show(what: 'CLIENTS' | 'SERVERS'): Promise<Record<string, unknown>[]> {
    const admin = createPool({
      connectionString: bouncer.consoleUrl,
      sendStartupParameters: false,
      maxConnections: 1,
    });
    try {
      const { rows } = await admin.query<Record<string, unknown>>(`show ${what}`);
      return rows.filter((row) => row.database === testDb.name);
    } finally {
      await admin.end();
    }
  }

  test('a pool that sends startup parameters is refused, which is why DATABASE_BEHIND_POOLER exists', async () => {
    const direct = createDb({ connectionString: bouncer.url, maxConnections: 1 });
    try {
      const error = await caught(sql`select 1`.execute(direct));
      expect(String(error)).toMatch(/unsupported startup parameter/i);
    } finally {
      await direct.destroy();
    }
  });

  test("keel_app's role-level timeouts apply through the pooler without any SET", async () => {
    const { rows } = await sql<Record<keyof typeof appRoleSettings, string>>`
      select current_setting('statement_timeout') as statement_timeout,
             current_setting('lock_timeout') as lock_timeout,
             current_setting('idle_in_transaction_session_timeout')
               as idle_in_transaction_session_timeout`.execute(db);
    expect(rows[0]).toEqual(appRoleSettings);
  });

  test('a transaction-local timeout fires (57014) and does not leak to other transactions', async () => {
    // A separate pool: this test changes a setting on purpose, the app never does.
    const probe = createDb({
      connectionString: bouncer.url,
      sendStartupParameters: false,
      maxConnections: 10,
    });
    try {
      const error = await caught(
        probe.transaction().execute(async (trx) => {
          await sql`select set_config('statement_timeout', '100ms', true)`.execute(trx);
          await sql`select pg_sleep(2)`.execute(trx);
        }),
      );
      expect((error as { code?: string }).code).toBe('57014');
      // Enough concurrent transactions to run on every pooled server connection.
      const seen = await Promise.all(
        Array.from({ length: 20 }, () =>
          sql<{ timeout: string; pid: number }>`
            select current_setting('statement_timeout') as timeout, pg_backend_pid() as pid
            from pg_sleep(0.05)`.execute(probe),
        ),
      );
      expect(new Set(seen.map(({ rows }) => rows[0]?.timeout))).toEqual(new Set(['15s']));
    } finally {
      await probe.destroy();
    }
  });

  test('a customer registers, logs in, pages through every product, orders, lists and cancels', async () => {
    const anonymous = app.client();
    const registered = await anonymous.auth.register.mutate({
      email: 'pooled@example.com',
      password: 'pooled-password-123',
      displayName: 'Pooled',
    });
    const { token, user } = await anonymous.auth.login.mutate({
      email: 'pooled@example.com',
      password: 'pooled-password-123',
    });
    expect(user.id).toBe(registered.user.id);
    const keel = app.client(token);
    expect((await keel.auth.me.query()).id).toBe(user.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await keel.products.list.query({
        limit: 10,
        sort: 'price_asc',
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.items.map((p) => p.sku));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(catalogue.length);
    expect(new Set(seen)).toEqual(new Set(catalogue.map((p) => p.sku)));

    const first = await keel.products.bySku.query({ sku: 'PGB-001' });
    const order = await keel.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: first.id, quantity: 2 }],
    });
    expect(order.placedAt).toBeInstanceOf(Date);
    expect(order.totalCents).toBe(first.priceCents * 2);
    expect((await keel.products.byId.query({ id: first.id })).stockQuantity).toBe(3);

    const mine = await keel.orders.list.query({ limit: 10 });
    expect(mine.items.map((o) => o.id)).toEqual([order.id]);
    const cancelled = await keel.orders.cancel.mutate({ id: order.id });
    expect(cancelled.status).toBe('cancelled');
    expect((await keel.products.byId.query({ id: first.id })).stockQuantity).toBe(5);
  });

  test('several calls in one tick travel as one HTTP request', async () => {
    const keel = app.client();
    const before = app.requests.length;
    const [a, b, c] = await Promise.all([
      keel.products.list.query({ limit: 1 }),
      keel.products.bySku.query({ sku: 'PGB-002' }),
      keel.health.check.query(),
    ]);
    expect(a.items).toHaveLength(1);
    expect(b.sku).toBe('PGB-002');
    expect(c).toEqual({ database: 'ok' });
    expect(app.requests.length - before).toBe(1);
  });

  test('errors keep their codes: BAD_REQUEST, CONFLICT, UNAUTHORIZED, NOT_FOUND', async () => {
    const invalid = await caught(
      app
        .client()
        .auth.register.mutate({ email: 'x@example.com', password: 'short', displayName: 'X' }),
    );
    expect(keelErrorCode(invalid)).toBe('BAD_REQUEST');
    expect(keelFieldErrors(invalid)?.password?.[0]).toMatch(/at least 12/);

    const { keel } = await customer('codes-pooled@example.com');
    const duplicate = await caught(
      app.client().auth.register.mutate({
        email: 'codes-pooled@example.com',
        password: 'pooled-password-123',
        displayName: 'Again',
      }),
    );
    expect(keelErrorCode(duplicate)).toBe('CONFLICT');
    expect(keelErrorCode(await caught(app.client().orders.list.query({})))).toBe('UNAUTHORIZED');
    expect(keelErrorCode(await caught(keel.orders.byId.query({ id: randomUUID() })))).toBe(
      'NOT_FOUND',
    );
    expect(
      keelErrorCode(await caught(keel.products.list.query({ cursor: 'bm90LWEtY3Vyc29y' }))),
    ).toBe('BAD_REQUEST');
  });

  test('50 concurrent orders for a product with stock 10: exactly 10 succeed, stock ends at 0', async () => {
    const [product] = await db
      .insertInto('products')
      .values({ sku: 'PGB-SCARCE', name: 'Scarce', price_cents: 999, stock_quantity: 10 })
      .returning('id')
      .execute();
    if (!product) throw new Error('unreachable: the product was just inserted');
    const { token } = await customer('rush-pooled@example.com');
    // One client each: 50 separate HTTP requests, all at once.
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        app.client(token).orders.place.mutate({
          idempotencyKey: randomUUID(),
          items: [{ productId: product.id, quantity: 1 }],
        }),
      ),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(results.length - failures.length).toBe(10);
    expect(new Set(failures.map(keelErrorCode))).toEqual(new Set(['CONFLICT']));

    const stock = await db
      .selectFrom('products')
      .select('stock_quantity')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(stock.stock_quantity).toBe(0);
    const orders = await db
      .selectFrom('order_items')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('product_id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(orders.count).toBe(10);
  });

  test('parallel replays of one idempotency key create one order', async () => {
    const { token, user } = await customer('replay-pooled@example.com');
    const first = await db
      .selectFrom('products')
      .select(['id', 'stock_quantity'])
      .where('sku', '=', 'PGB-010')
      .executeTakeFirstOrThrow();
    const input = {
      idempotencyKey: randomUUID(),
      items: [{ productId: first.id, quantity: 1 }],
    };
    const orders = await Promise.all(
      Array.from({ length: 12 }, () => app.client(token).orders.place.mutate(input)),
    );
    expect(new Set(orders.map((o) => o.id)).size).toBe(1);
    const stored = await db
      .selectFrom('orders')
      .select('id')
      .where('user_id', '=', user.id)
      .where('idempotency_key', '=', input.idempotencyKey)
      .execute();
    expect(stored).toHaveLength(1);
    const after = await db
      .selectFrom('products')
      .select('stock_quantity')
      .where('id', '=', first.id)
      .executeTakeFirstOrThrow();
    expect(after.stock_quantity).toBe(first.stock_quantity - 1);
  });

  test('ten client connections share at most five server connections', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        sql<{ pid: number }>`select pg_backend_pid() as pid from pg_sleep(0.05)`.execute(db),
      ),
    );
    const backends = new Set(results.map(({ rows }) => rows[0]?.pid));
    expect(backends.size).toBeGreaterThan(0);
    expect(backends.size).toBeLessThanOrEqual(bouncer.poolSize);

    const clients = (await show('CLIENTS')).filter((c) => c.user === 'keel_app');
    const servers = await show('SERVERS');
    expect(clients.length).toBeGreaterThan(bouncer.poolSize);
    expect(servers.length).toBeGreaterThan(0);
    expect(servers.length).toBeLessThanOrEqual(bouncer.poolSize);
  });

  test('Keel sent no session-level SET, named prepared statement, advisory lock, LISTEN or temp table', () => {
    // Every statement of the flows above, as Kysely logged it.
    expect(statements.length).toBeGreaterThan(100);
    const sessionState =
      /^\s*(set|reset|prepare|execute|deallocate|discard|listen|unlisten|load)\b|pg_advisory_lock|pg_advisory_unlock|\bcreate\s+(temp|temporary)\b/i;
    expect(statements.filter((s) => sessionState.test(s))).toEqual([]);

    // And at the driver: a query config with a `name` is a named prepared statement.
    expect(driverQueries.length).toBeGreaterThanOrEqual(statements.length);
    const named = driverQueries.filter(
      (config) => typeof config === 'object' && config !== null && 'name' in config,
    );
    expect(named).toEqual([]);
  });
});
