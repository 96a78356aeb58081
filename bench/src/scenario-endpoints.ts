// Scenario L: the three other requests the speed goal names, each through
// Keel's real client protocol against bare Express 5 + pg running the same
// SQL with the same pool: products.byId (a public read), orders.list of a
// signed-in customer (the session lookup, then a page of 20 orders with their
// items), and products.update by an admin (the session lookup, then one
// UPDATE … RETURNING), a mutation.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DB } from '@keel/db';
import { type Kysely, sql } from 'kysely';
import type { BenchDatabase } from './bench-database';
import { type ContenderResult, interleavedRounds, type LoadSpec, pairedRatios } from './load';
import { type RunningServer, startServer } from './processes';
import {
  type CapturedStatement,
  captureCalls,
  connections,
  fromShop,
  keelScript,
  keelServerEnv,
  poolSize,
} from './scenario-list';

/** One statement as the baselines run it: Keel's SQL text and its parameters, `$name` where a value comes from the request. */
type Statement = CapturedStatement;

/** What the Express baseline runs for each route (bench/src/baselines/express.mjs). */
export interface EndpointStatements {
  byId: Statement;
  session: Statement;
  ordersList: Statement;
  update: Statement;
}

/** The rows the scenario reads and writes, made for it and removed after it. */
export interface Fixtures {
  productIds: string[];
  /** Bearer tokens of customers with at least 20 orders each. */
  customerTokens: string[];
  adminToken: string;
  /** Products made for the update load, so the seeded catalogue stays as it was. */
  updateIds: string[];
  cleanup(): Promise<void>;
}

const ordersPerPage = 20;

/** Rows for scenario L: sampled products, customers' sessions, an admin and products to update. */
export async function endpointFixtures(owner: Kysely<DB>): Promise<Fixtures> {
  const { rows: products } = await sql<{ id: string }>`
    select id::text as id from products tablesample bernoulli (0.2) repeatable (7)
    where deleted_at is null and is_active limit 2000`.execute(owner);
  const { rows: customers } = await sql<{ id: string }>`
    select o.user_id::text as id from orders o join users u on u.id = o.user_id
    where o.deleted_at is null and u.deleted_at is null and u.is_active
    group by o.user_id having count(*) >= ${ordersPerPage} order by o.user_id limit 50`.execute(
    owner,
  );
  if (products.length < 100 || customers.length < 10) {
    throw new Error('scenario L: the bench database has too few products or customers with orders');
  }
  const label = randomUUID().slice(0, 8);
  const admin = await owner
    .insertInto('users')
    .values({
      email: `bench-admin-${label}@keel.dev`,
      display_name: 'Bench admin',
      password_hash: 'no-password',
      role: 'admin',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const sessionIds: string[] = [];
  const sessionFor = async (userId: string) => {
    const token = randomBytes(32).toString('base64url');
    const session = await owner
      .insertInto('sessions')
      .values({
        user_id: userId,
        token_hash: createHash('sha256').update(token).digest(),
        expires_at: new Date(Date.now() + 3_600_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    sessionIds.push(session.id);
    return token;
  };
  const customerTokens: string[] = [];
  for (const customer of customers) customerTokens.push(await sessionFor(customer.id));
  const adminToken = await sessionFor(admin.id);
  const updates = await owner
    .insertInto('products')
    .values(
      Array.from({ length: 1_000 }, (_, i) => ({
        sku: `BENCH-L-${label.toUpperCase()}-${i}`,
        name: `Update Probe ${i}`,
        price_cents: 100 + i,
        stock_quantity: 1_000,
      })),
    )
    .returning('id')
    .execute();
  return {
    productIds: products.map((p) => p.id),
    customerTokens,
    adminToken,
    updateIds: updates.map((p) => p.id),
    cleanup: async () => {
      if (sessionIds.length > 0)
        await owner.deleteFrom('sessions').where('id', 'in', sessionIds).execute();
      await owner.deleteFrom('users').where('id', '=', admin.id).execute();
      await owner
        .deleteFrom('products')
        .where(
          'id',
          'in',
          updates.map((p) => p.id),
        )
        .execute();
    },
  };
}

/**
 * The statements Keel sends for each of the three calls, captured from its
 * log hook, with the request's values replaced by `$name` so the baseline
 * binds its own.
 */
export async function captureStatements(
  bench: BenchDatabase,
  fixtures: Fixtures,
): Promise<EndpointStatements> {
  const customerToken = fixtures.customerTokens[0] ?? '';
  const productId = fixtures.productIds[0] ?? '';
  const updateId = fixtures.updateIds[0] ?? '';
  const customerHash = createHash('sha256').update(customerToken).digest();
  const adminHash = createHash('sha256').update(fixtures.adminToken).digest();
  const marked = (statement: Statement | undefined, marks: [unknown, string][]): Statement => {
    if (!statement) throw new Error('scenario L: a statement was not captured');
    return {
      sql: statement.sql,
      params: statement.params.map((value) => {
        for (const [sample, mark] of marks) {
          if (
            Buffer.isBuffer(sample) && Buffer.isBuffer(value)
              ? sample.equals(value)
              : value === sample
          )
            return mark;
        }
        return value;
      }),
    };
  };
  const [byId] = await captureCalls(bench, null, (c) => c.products.byId({ id: productId }));
  const [customerSession, orders] = await captureCalls(bench, customerToken, (c) =>
    c.orders.list({ limit: ordersPerPage }),
  );
  const ownerId = orders?.params.find(
    (value) => typeof value === 'string' && /^[0-9a-f-]{36}$/.test(value),
  );
  const [, update] = await captureCalls(bench, fixtures.adminToken, (c) =>
    c.products.update({ id: updateId, stockQuantity: 4321 }),
  );
  return {
    byId: marked(byId, [[productId, '$id']]),
    session: marked(customerSession, [
      [customerHash, '$tokenHash'],
      [adminHash, '$tokenHash'],
    ]),
    ordersList: marked(orders, [[ownerId, '$userId']]),
    update: marked(update, [
      [updateId, '$id'],
      [4321, '$stockQuantity'],
    ]),
  };
}

/** What scenario L sends to Keel and to Express for each endpoint. */
export interface EndpointLoad {
  name: string;
  method: 'GET' | 'POST';
  keel: LoadSpec['next'];
  express: LoadSpec['next'];
}

/** The three endpoints' loads over the fixtures: values cycle, the same sequence for both servers. */
export function endpointLoads(fixtures: Fixtures): EndpointLoad[] {
  let n = 0;
  const pick = <T>(list: T[]): T => {
    n += 1;
    return list[n % list.length] as T;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return [
    {
      name: 'products.byId',
      method: 'GET',
      keel: fromShop(() => ({ path: trpcGet('products.byId', { id: pick(fixtures.productIds) }) })),
      express: () => ({ path: `/products/${pick(fixtures.productIds)}` }),
    },
    {
      name: 'orders.list (signed in)',
      method: 'GET',
      keel: fromShop(() => ({
        path: trpcGet('orders.list', { limit: ordersPerPage }),
        headers: bearer(pick(fixtures.customerTokens)),
      })),
      express: () => ({ path: '/orders', headers: bearer(pick(fixtures.customerTokens)) }),
    },
    {
      name: 'products.update (admin)',
      method: 'POST',
      keel: fromShop(() => ({
        path: '/trpc/products.update?batch=1',
        body: JSON.stringify({
          0: { json: { id: pick(fixtures.updateIds), stockQuantity: n % 10_000 } },
        }),
        headers: bearer(fixtures.adminToken),
      })),
      express: () => ({
        path: `/products/${pick(fixtures.updateIds)}`,
        body: JSON.stringify({ stockQuantity: n % 10_000 }),
        headers: bearer(fixtures.adminToken),
      }),
    },
  ];
}

export interface EndpointResult {
  name: string;
  keel: ContenderResult;
  express: ContenderResult;
  /** Keel / Express throughput, the median of the rounds' own ratios. */
  ratio: number;
  /** Keel / Express p99, the median of the rounds' own ratios. */
  p99Ratio: number;
}

function trpcGet(path: string, input: unknown): string {
  return `/trpc/${path}?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: input } }))}`;
}

/**
 * Scenario L: for each endpoint, Keel's production build and the bare Express
 * baseline in interleaved rounds (32 connections, pool 10 each, TLS to the
 * database for both).
 */
export async function endpointThroughput(
  bench: BenchDatabase,
  owner: Kysely<DB>,
  options: { rounds: number; seconds: number; warmupSeconds: number },
  log: (line: string) => void,
): Promise<EndpointResult[]> {
  const fixtures = await endpointFixtures(owner);
  const servers: RunningServer[] = [];
  try {
    const statements = await captureStatements(bench, fixtures);
    const keel = await startServer('keel', keelScript, keelServerEnv(bench), '/readyz');
    servers.push(keel);
    const express = await startServer(
      'express',
      join(import.meta.dirname, 'baselines', 'express.mjs'),
      {
        DATABASE_URL: bench.appUrl,
        DATABASE_POOL_MAX: String(poolSize),
        BENCH_ENDPOINTS: JSON.stringify(statements),
      },
      '/healthz',
    );
    servers.push(express);
    const endpoints = endpointLoads(fixtures);
    const results: EndpointResult[] = [];
    for (const endpoint of endpoints) {
      const summary = await interleavedRounds(
        `L ${endpoint.name}`,
        [
          {
            name: 'keel',
            url: keel.url,
            pid: keel.child.pid,
            method: endpoint.method,
            next: endpoint.keel,
          },
          {
            name: 'express',
            url: express.url,
            pid: express.child.pid,
            method: endpoint.method,
            next: endpoint.express,
          },
        ],
        { ...options, connections, alternate: true },
        log,
      );
      const k = summary.keel as ContenderResult;
      const e = summary.express as ContenderResult;
      const paired = pairedRatios(k, e);
      results.push({
        name: endpoint.name,
        keel: k,
        express: e,
        ratio: paired.rps,
        p99Ratio: paired.p99,
      });
    }
    return results;
  } finally {
    for (const server of servers) await server.stop();
    await fixtures.cleanup();
  }
}
