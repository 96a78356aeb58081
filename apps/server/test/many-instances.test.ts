// Three production server processes (the built bundle) on one database,
// behind Debian's HAProxy (round-robin, health-checked on /healthz): the
// customer journey runs through the proxy; sign-in limits and sessions hold
// across instances; and instances stopped in the middle of a stream of
// orders lose no acknowledged order and place none twice. Set
// KEEL_SKIP_HAPROXY=1 to skip this file on a machine without HAProxy (CI
// installs it).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createKeelClient, type KeelClient, keelErrorCode } from '@keel/client';
import { readToolingEnvironment } from '@keel/platform';
import {
  createTestDatabase,
  createUser,
  makeProduct,
  type TestDatabase,
  testPassword,
} from '@keel/platform/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningHaproxy, startHaproxy } from './haproxy';
import { startServiceProcess } from './harness';
import { customerJourney } from './journey';

const skip = readToolingEnvironment().KEEL_SKIP_HAPROXY === '1';
if (skip) console.warn('KEEL_SKIP_HAPROXY=1: the many-instances suite is skipped');

const serverDir = join(import.meta.dirname, '..');
const names = ['one', 'two', 'three'] as const;
type Instance = Awaited<ReturnType<typeof startServiceProcess>> & { name: string };

let build: string;
let testDb: TestDatabase;
let instances: Instance[] = [];
let proxy: RunningHaproxy;
/** Which instance served each response that came through the proxy (`x-keel-instance`). */
const servedBy: string[] = [];

/** A client of one base URL; `forwardedFor` plays the client's address (the instances trust one proxy hop). */
function clientOf(
  base: string,
  options: { token?: string; forwardedFor?: string; served?: string[] } = {},
): KeelClient {
  return createKeelClient({
    url: `${base}/trpc`,
    ...(options.token ? { token: options.token } : {}),
    fetch: async (input, init) => {
      const headers = new Headers(init?.headers);
      if (options.forwardedFor) headers.set('x-forwarded-for', options.forwardedFor);
      const response = await fetch(input, { ...init, headers });
      options.served?.push(response.headers.get('x-keel-instance') ?? '?');
      return response;
    },
  });
}
const viaProxy = (token?: string) =>
  clientOf(proxy.url, { ...(token ? { token } : {}), served: servedBy });
const instance = (name: (typeof names)[number]) =>
  instances.find((i) => i.name === name) as Instance;

/** The API code of a call's refusal, or OK. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'OK',
    (error: unknown) => keelErrorCode(error) ?? String(error),
  );

describe.skipIf(skip)('three production server processes behind HAProxy, on one database', () => {
  beforeAll(async () => {
    // Built into a directory of this file's own (other tests run dist/), inside
    // the package so that the bundle's npm imports resolve from node_modules.
    build = mkdtempSync(join(serverDir, '.build-test-'));
    execFileSync(process.execPath, ['build.mjs', build], { cwd: serverDir, stdio: 'ignore' });
    testDb = await createTestDatabase();
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: testDb.urls.app,
      DATABASE_POOL_MAX: '4',
      // Behind one proxy: the address HAProxy appends is the client's.
      TRUST_PROXY: '1',
      AUTH_RATE_LIMIT_PER_MINUTE: '10',
      MAX_PENDING_ORDERS: '100000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    };
    instances = await Promise.all(
      names.map(async (name) => ({
        name,
        ...(await startServiceProcess([join(build, 'main.mjs')], env)),
      })),
    );
    proxy = await startHaproxy(instances);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await Promise.all(instances.map((i) => i.kill()));
    await testDb?.destroy();
    if (build) rmSync(build, { recursive: true, force: true });
  });

  test('the customer journey runs through the proxy, its requests served by all three', async () => {
    const catalogue = await Promise.all(
      Array.from({ length: 12 }, (_, i) => makeProduct(testDb.db, { sku: `MANY-${i}` })),
    );
    const admin = await createUser(testDb.db, { role: 'admin' });
    const before = servedBy.length;
    await customerJourney({
      client: viaProxy,
      adminToken: admin.token,
      catalogueSkus: catalogue.map((p) => p.sku),
    });
    expect(new Set(servedBy.slice(before))).toEqual(new Set(names));
  });

  test('a session made on one instance works on the others, and signing out on one ends it on all', async () => {
    const email = `session-${randomUUID().slice(0, 8)}@example.com`;
    const { token } = await clientOf(instance('one').base).auth.register.mutate({
      email,
      password: 'session-password-123',
      displayName: 'Session',
    });
    for (const name of ['two', 'three'] as const)
      expect((await clientOf(instance(name).base, { token }).auth.me.query()).email).toBe(email);
    await clientOf(instance('three').base, { token }).auth.logout.mutate();
    for (const name of names)
      expect(await outcome(clientOf(instance(name).base, { token }).auth.me.query())).toBe(
        'UNAUTHORIZED',
      );
  });

  test('wrong passwords alternated across the instances, from any address, are refused as if sent to one', async () => {
    const account = await createUser(testDb.db, { label: 'alternated' });
    const codes = [];
    // Five free failures, the sixth counted, the seventh waits (one instance alone would allow 6 each).
    for (let i = 0; i < 7; i += 1) {
      const to = instance(names[i % 3] as (typeof names)[number]);
      codes.push(
        await outcome(
          clientOf(to.base, { forwardedFor: `198.51.100.${i}` }).auth.login.mutate({
            email: account.email,
            password: `wrong-password-${i}`,
          }),
        ),
      );
    }
    expect(codes).toEqual([...Array(6).fill('UNAUTHORIZED'), 'TOO_MANY_REQUESTS']);
    // Now even the right password waits, whichever instance it reaches.
    expect(
      await outcome(
        clientOf(instance('two').base, { forwardedFor: '198.51.100.99' }).auth.login.mutate({
          email: account.email,
          password: testPassword,
        }),
      ),
    ).toBe('TOO_MANY_REQUESTS');
  });

  test('the per-address sign-in limit (10 a minute) counts across the instances', async () => {
    const codes = [];
    for (let i = 0; i < 12; i += 1) {
      const to = instance(names[i % 3] as (typeof names)[number]);
      codes.push(
        await outcome(
          // Another unknown email each time: only the address's limit is in play.
          clientOf(to.base, { forwardedFor: '192.0.2.77' }).auth.login.mutate({
            email: `limit-${i}-${randomUUID().slice(0, 8)}@example.com`,
            password: 'not-the-password',
          }),
        ),
      );
    }
    expect(codes).toEqual([
      ...Array(10).fill('UNAUTHORIZED'),
      ...Array(2).fill('TOO_MANY_REQUESTS'),
    ]);
  });

  test('instances stopped in the middle of a stream of orders (SIGTERM, then SIGKILL) lose no acknowledged order and place none twice', async () => {
    const product = await makeProduct(testDb.db, { sku: 'MANY-STREAM', stockQuantity: 100_000 });
    // A customer per client: one customer's orders are placed one at a time.
    const customers = await Promise.all(
      Array.from({ length: 8 }, () => createUser(testDb.db, { label: 'streamer' })),
    );
    const total = 150;
    const acknowledged: { key: string; id: string; quantity: number }[] = [];
    let retries = 0;
    let stopping: Promise<unknown> | undefined;
    let killing: Promise<unknown> | undefined;

    /** One order, retried through the proxy with the same key until it is acknowledged. */
    async function place(keel: KeelClient, index: number): Promise<void> {
      const key = randomUUID();
      const quantity = 1 + (index % 3);
      for (let attempt = 1; ; attempt += 1) {
        try {
          const order = await keel.orders.place.mutate({
            idempotencyKey: key,
            items: [{ productId: product.id, quantity }],
          });
          acknowledged.push({ key, id: order.id, quantity });
          // A third of the way: one instance shuts down gracefully; two thirds: another dies.
          if (acknowledged.length === total / 3) stopping = instance('one').stop();
          if (acknowledged.length === (2 * total) / 3) killing = instance('two').kill();
          return;
        } catch (error) {
          // A refusal by Keel itself is a failure of the test; only a
          // connection lost on the way (no API code) is worth another try.
          if (keelErrorCode(error) !== null || attempt === 20) throw error;
          retries += 1;
          await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
        }
      }
    }

    const started = performance.now();
    let next = 0;
    await Promise.all(
      // Eight clients of their own (no batching between them): eight
      // requests in flight at once, spread over the instances.
      customers.map(async (customer) => {
        const keel = viaProxy(customer.token);
        while (next < total) await place(keel, next++);
      }),
    );
    await Promise.all([stopping, killing]);
    const seconds = (performance.now() - started) / 1000;

    const rows = await testDb.db
      .selectFrom('orders')
      .innerJoin('order_items', 'order_items.order_id', 'orders.id')
      .select(['orders.id', 'orders.idempotency_key as key', 'order_items.quantity'])
      .where(
        'orders.user_id',
        'in',
        customers.map((c) => c.id),
      )
      .execute();
    // Every acknowledged order is in the database, once, as acknowledged; nothing else is.
    expect(acknowledged).toHaveLength(total);
    expect(rows).toHaveLength(total);
    expect(new Map(rows.map((r) => [r.key, r.id]))).toEqual(
      new Map(acknowledged.map((a) => [a.key, a.id])),
    );
    const placed = acknowledged.reduce((sum, a) => sum + a.quantity, 0);
    const { stock_quantity } = await testDb.db
      .selectFrom('products')
      .select('stock_quantity')
      .where('id', '=', product.id)
      .executeTakeFirstOrThrow();
    expect(stock_quantity).toBe(100_000 - placed);
    // The one instance left serves everything now.
    const after = servedBy.length;
    await viaProxy().health.check.query();
    expect(servedBy.slice(after)).toEqual(['three']);
    console.info(
      `many instances: ${total} orders in ${seconds.toFixed(1)} s through HAProxy, ${retries} retried after instances stopped`,
    );
  });
});
