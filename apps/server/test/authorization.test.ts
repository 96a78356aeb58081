// The authorization matrix, kept once and over HTTP through the real client
// (so it also proves the status codes and the bearer-token handling): every
// procedure × {anonymous, customer A, customer B, admin}; plus forged,
// malformed, expired and revoked credentials, and nobody reading or changing
// what is not theirs.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appRouter } from '@keel/api';
import { createKeelClient, type KeelClient, type KeelErrorCode, keelErrorCode } from '@keel/client';
import {
  createTestDatabase,
  createUser,
  makeProduct,
  testPassword as password,
  seedUsers,
  uniqueSku,
} from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { startApp } from './harness';

// ---------------------------------------------------------------------------
// Who may call what.

type Who = 'anonymous' | 'customerA' | 'customerB' | 'admin';
type Outcome = 'OK' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND';

const whos: readonly Who[] = ['anonymous', 'customerA', 'customerB', 'admin'];

const everyone = { anonymous: 'OK', customerA: 'OK', customerB: 'OK', admin: 'OK' } as const;
const signedIn = {
  anonymous: 'UNAUTHORIZED',
  customerA: 'OK',
  customerB: 'OK',
  admin: 'OK',
} as const;
const adminOnly = {
  anonymous: 'UNAUTHORIZED',
  customerA: 'FORBIDDEN',
  customerB: 'FORBIDDEN',
  admin: 'OK',
} as const;

/** Expected outcome per procedure and caller; order ids are customer A's. */
const expectedAccess = {
  'auth.register': everyone,
  'auth.login': everyone,
  'auth.logout': signedIn,
  'auth.me': signedIn,
  'health.check': everyone,
  'products.list': everyone,
  'products.byId': everyone,
  'products.bySku': everyone,
  'products.create': adminOnly,
  'products.update': adminOnly,
  'products.delete': adminOnly,
  'orders.place': signedIn,
  'orders.list': signedIn,
  // Customer A's order: B must not learn that it exists.
  'orders.byId': {
    anonymous: 'UNAUTHORIZED',
    customerA: 'OK',
    customerB: 'NOT_FOUND',
    admin: 'OK',
  },
  // A fresh pending order of customer A each time. orders.cancel is scoped to the
  // caller's own orders for everyone, admins included (they use orders.updateStatus).
  'orders.cancel': {
    anonymous: 'UNAUTHORIZED',
    customerA: 'OK',
    customerB: 'NOT_FOUND',
    admin: 'NOT_FOUND',
  },
  // A fresh pending order of customer A each time; like cancel, scoped to the caller's own orders.
  'orders.pay': {
    anonymous: 'UNAUTHORIZED',
    customerA: 'OK',
    customerB: 'NOT_FOUND',
    admin: 'OK',
  },
  'orders.updateStatus': adminOnly,
  'webhooks.failedDeliveries': adminOnly,
  'webhooks.retryDelivery': adminOnly,
  'users.list': adminOnly,
  'users.updateMe': signedIn,
  'users.deleteMe': signedIn,
} satisfies Record<string, Record<Who, Outcome>>;

// ---------------------------------------------------------------------------

const testDb = await createTestDatabase();
const db = testDb.db;
const app = await startApp(db, { authRateLimitPerMinute: 100_000 });
// The same database behind an app whose sessions last 300 ms.
const shortLived = await startApp(db, {
  authRateLimitPerMinute: 100_000,
  settings: { sessionTtlMs: 300 },
});
afterAll(async () => {
  await shortLived.close();
  await app.close();
  await testDb.destroy();
});

const anonymous = app.client();

const httpStatusOf: Partial<Record<KeelErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
};

/** 'OK' or the API error code; checks the HTTP status matches the code (README, Errors). */
async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (error) {
    const code = keelErrorCode(error);
    if (!code) return `not an API error: ${String(error)}`;
    // keelErrorCode found a TRPCClientError, whose data carries the HTTP status.
    const httpStatus = (error as { data?: { httpStatus?: number } }).data?.httpStatus;
    expect(httpStatus, code).toBe(httpStatusOf[code]);
    return code;
  }
}

const newSku = () => uniqueSku('AZ');

const { customer: customerA, otherCustomer: customerB, admin } = await seedUsers(db);

const clients: Record<Who, KeelClient> = {
  anonymous,
  customerA: app.client(customerA.token),
  customerB: app.client(customerB.token),
  admin: app.client(admin.token),
};

const product = await makeProduct(db, {
  name: 'Matrix widget',
  priceCents: 500,
  stockQuantity: 10_000,
});
const inactiveProduct = await makeProduct(db, {
  name: 'Hidden widget',
  priceCents: 700,
  stockQuantity: 10,
  isActive: false,
});

function placeOrder(client: KeelClient, quantity = 1) {
  return client.orders.place.mutate({
    idempotencyKey: randomUUID(),
    items: [{ productId: product.id, quantity }],
  });
}

const orderOfA = await placeOrder(clients.customerA);
const orderOfB = await placeOrder(clients.customerB);

/** A client that may be used up: a fresh user of the same role (anonymous stays anonymous). */
async function throwawayClient(who: Who): Promise<KeelClient> {
  if (who === 'anonymous') return anonymous;
  const user = await createUser(db, {
    label: `throwaway-${who}`,
    role: who === 'admin' ? 'admin' : 'customer',
  });
  return app.client(user.token);
}

interface Row {
  procedure: keyof typeof expectedAccess;
  /** Use a throwaway user for this row: the call destroys the caller's session or account. */
  throwaway?: boolean;
  /** Sets up what the call needs (outside the measured call), then returns the call. */
  arrange: (client: KeelClient) => Promise<() => Promise<unknown>>;
}

const matrix: Row[] = [
  {
    procedure: 'auth.register',
    arrange: async (c) => () =>
      c.auth.register.mutate({
        email: `reg-${randomUUID().slice(0, 8)}@example.com`,
        password,
        displayName: 'Newcomer',
      }),
  },
  {
    procedure: 'auth.login',
    arrange: async (c) => () => c.auth.login.mutate({ email: customerA.email, password }),
  },
  {
    procedure: 'auth.logout',
    throwaway: true,
    arrange: async (c) => () => c.auth.logout.mutate(),
  },
  {
    procedure: 'auth.me',
    arrange: async (c) => () => c.auth.me.query(),
  },
  {
    procedure: 'health.check',
    arrange: async (c) => () => c.health.check.query(),
  },
  {
    procedure: 'products.list',
    arrange: async (c) => () => c.products.list.query({ limit: 5 }),
  },
  {
    procedure: 'products.byId',
    arrange: async (c) => () => c.products.byId.query({ id: product.id }),
  },
  {
    procedure: 'products.bySku',
    arrange: async (c) => () => c.products.bySku.query({ sku: product.sku }),
  },
  {
    procedure: 'products.create',
    arrange: async (c) => () =>
      c.products.create.mutate({
        sku: newSku(),
        name: 'Created',
        priceCents: 100,
        stockQuantity: 1,
      }),
  },
  {
    procedure: 'products.update',
    arrange: async (c) => {
      const target = await makeProduct(db, { name: 'To update', priceCents: 100 });
      return () => c.products.update.mutate({ id: target.id, priceCents: 150 });
    },
  },
  {
    procedure: 'products.delete',
    arrange: async (c) => {
      const target = await makeProduct(db, { name: 'To delete', priceCents: 100 });
      return () => c.products.delete.mutate({ id: target.id });
    },
  },
  {
    procedure: 'orders.place',
    arrange: async (c) => () => placeOrder(c),
  },
  {
    procedure: 'orders.list',
    arrange: async (c) => () => c.orders.list.query({ limit: 5 }),
  },
  {
    procedure: 'orders.byId',
    arrange: async (c) => () => c.orders.byId.query({ id: orderOfA.id }),
  },
  {
    procedure: 'orders.cancel',
    arrange: async (c) => {
      const order = await placeOrder(clients.customerA);
      return () => c.orders.cancel.mutate({ id: order.id });
    },
  },
  {
    procedure: 'orders.pay',
    arrange: async (c) => {
      const order = await placeOrder(clients.customerA);
      const card = { number: '4242424242424242', expiryMonth: 12, expiryYear: 2099, cvc: '123' };
      return () => c.orders.pay.mutate({ id: order.id, card });
    },
  },
  {
    procedure: 'webhooks.failedDeliveries',
    arrange: async (c) => () => c.webhooks.failedDeliveries.query({ limit: 5 }),
  },
  {
    procedure: 'webhooks.retryDelivery',
    arrange: async (c) => {
      // A delivery the worker gave up on (none runs here: set by hand, as the owner would see it).
      const [event] = await testDb.db
        .updateTable('keel_jobs.order_events')
        .set({ delivery_status: 'failed', attempt_count: 8, last_error: 'HTTP 500' })
        .where('id', '=', (eb) =>
          eb
            .selectFrom('keel_jobs.order_events')
            .select('id')
            .where('delivery_status', '=', 'pending')
            .limit(1),
        )
        .returning('id')
        .execute();
      return () => c.webhooks.retryDelivery.mutate({ id: event?.id ?? '' });
    },
  },
  {
    procedure: 'orders.updateStatus',
    arrange: async (c) => {
      const order = await placeOrder(clients.customerA);
      return () => c.orders.updateStatus.mutate({ id: order.id, status: 'paid' });
    },
  },
  {
    procedure: 'users.list',
    arrange: async (c) => () => c.users.list.query({ limit: 5 }),
  },
  {
    procedure: 'users.updateMe',
    arrange: async (c) => () => c.users.updateMe.mutate({ displayName: 'Renamed' }),
  },
  {
    procedure: 'users.deleteMe',
    throwaway: true,
    arrange: async (c) => () => c.users.deleteMe.mutate({ password }),
  },
];

test('the matrix and its table cover every procedure of the appRouter exactly once', () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  const covered = matrix.map((row) => row.procedure).sort();
  expect(covered).toEqual(procedures);
  expect(new Set(covered).size).toBe(covered.length);
  expect(Object.keys(expectedAccess).sort()).toEqual(procedures);
});

describe.each(matrix)('$procedure', (row) => {
  const cells = whos.map((who) => ({ who, expected: expectedAccess[row.procedure][who] }));
  test.each(cells)('called by $who: $expected', async ({ who, expected }) => {
    const client = row.throwaway ? await throwawayClient(who) : clients[who];
    const act = await row.arrange(client);
    expect(await codeOf(act())).toBe(expected);
  });
});

// ---------------------------------------------------------------------------

/** A client sending exactly this Authorization header (or none). */
function withAuthorization(header: string): KeelClient {
  return createKeelClient({ url: app.trpcUrl, headers: { authorization: header } });
}

const forgedTokens = Array.from({ length: 5 }, () => randomBytes(32).toString('base64url'));

describe('credentials that are not a live session are UNAUTHORIZED', () => {
  test.each(forgedTokens)(
    'a forged 43-character token (%s) on signed-in procedures',
    async (token) => {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const forged = app.client(token);
      expect(await codeOf(forged.auth.me.query())).toBe('UNAUTHORIZED');
      expect(await codeOf(forged.orders.list.query({ limit: 5 }))).toBe('UNAUTHORIZED');
      expect(await codeOf(forged.users.updateMe.mutate({ displayName: 'Forged' }))).toBe(
        'UNAUTHORIZED',
      );
      expect(
        await codeOf(forged.products.create.mutate({ sku: newSku(), name: 'F', priceCents: 1 })),
      ).toBe('UNAUTHORIZED');
    },
  );

  test('a forged token on a public procedure is UNAUTHORIZED too, not silently anonymous', async () => {
    const forged = app.client(randomBytes(32).toString('base64url'));
    expect(await codeOf(forged.products.list.query({ limit: 1 }))).toBe('UNAUTHORIZED');
    expect(await codeOf(forged.products.byId.query({ id: product.id }))).toBe('UNAUTHORIZED');
  });

  test("a real token with one character changed is UNAUTHORIZED, not its owner's session", async () => {
    const last = customerA.token.at(-1) === 'A' ? 'B' : 'A';
    const tampered = `${customerA.token.slice(0, -1)}${last}`;
    expect(await codeOf(app.client(tampered).auth.me.query())).toBe('UNAUTHORIZED');
    expect((await clients.customerA.auth.me.query()).id).toBe(customerA.id);
  });

  const malformedHeaders = [
    'Bearer',
    'Bearer ',
    'Basic abc',
    "Bearer ' or 1=1 --",
    "Bearer '; drop table sessions; --",
    `Basic ${Buffer.from(`${customerA.email}:${password}`).toString('base64')}`,
    `Token ${customerA.token}`,
    `${customerA.token}`,
    `Bearer ${customerA.token}' or '1'='1`,
    `Bearer ${customerA.token} ${customerB.token}`,
    `Bearer ${'A'.repeat(5_000)}`,
    'Bearer \u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9',
  ];
  test.each(malformedHeaders)('Authorization: %s', async (header) => {
    const client = withAuthorization(header);
    expect(await codeOf(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(client.orders.list.query({ limit: 5 }))).toBe('UNAUTHORIZED');
    expect(await codeOf(client.users.list.query({ limit: 5 }))).toBe('UNAUTHORIZED');
  });

  test('the same header with a live token is accepted, so the refusals above are about the header', async () => {
    const me = await withAuthorization(`Bearer ${customerA.token}`).auth.me.query();
    expect(me.id).toBe(customerA.id);
  });

  test('an expired token (session TTL 300 ms, 500 ms later)', async () => {
    // Registered through the app whose sessions last 300 ms: its setting is what is tested.
    const { user, token } = await shortLived.client().auth.register.mutate({
      email: `expiring-${randomUUID().slice(0, 8)}@example.com`,
      password,
      displayName: 'Expiring',
    });
    const client = shortLived.client(token);
    // The token is this user's live session, made to last 300 ms (checked in the
    // database rather than by a call, which a loaded machine could make too late).
    const session = await db
      .selectFrom('sessions')
      .select(['user_id', 'created_at', 'expires_at', 'deleted_at'])
      .where('token_hash', '=', createHash('sha256').update(token).digest())
      .executeTakeFirstOrThrow();
    expect(session.user_id).toBe(user.id);
    expect(session.deleted_at).toBeNull();
    const lifetimeMs = session.expires_at.getTime() - session.created_at.getTime();
    // created_at is the transaction's start, a moment before expires_at is computed.
    expect(lifetimeMs).toBeGreaterThanOrEqual(250);
    expect(lifetimeMs).toBeLessThan(2_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await codeOf(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(client.orders.list.query({ limit: 5 }))).toBe('UNAUTHORIZED');
    // Expired in the database, so the app with the default TTL refuses it as well.
    expect(await codeOf(app.client(token).auth.me.query())).toBe('UNAUTHORIZED');
    // The account is fine: signing in again (default TTL) gives a working token.
    const again = await anonymous.auth.login.mutate({ email: user.email, password });
    expect((await app.client(again.token).auth.me.query()).id).toBe(user.id);
  });

  test("a revoked token (after auth.logout), while the same user's other session still works", async () => {
    const user = await createUser(db, { label: 'leaving' });
    const client = app.client(user.token);
    const other = await anonymous.auth.login.mutate({ email: user.email, password });
    expect((await client.auth.me.query()).id).toBe(user.id);
    expect(await client.auth.logout.mutate()).toEqual({ signedOut: true });
    expect(await codeOf(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(client.users.updateMe.mutate({ displayName: 'Ghost' }))).toBe(
      'UNAUTHORIZED',
    );
    expect(await codeOf(client.auth.logout.mutate())).toBe('UNAUTHORIZED');
    expect((await app.client(other.token).auth.me.query()).id).toBe(user.id);
  });

  test('the token of a deleted account (after users.deleteMe)', async () => {
    const client = app.client((await createUser(db, { label: 'deleting' })).token);
    expect(await client.users.deleteMe.mutate({ password })).toEqual({ deleted: true });
    expect(await codeOf(client.auth.me.query())).toBe('UNAUTHORIZED');
    expect(await codeOf(placeOrder(client))).toBe('UNAUTHORIZED');
  });
});

// ---------------------------------------------------------------------------

describe('orders are private to their customer', () => {
  test("a customer cannot read another customer's order: NOT_FOUND, same as a missing order", async () => {
    const foreign = await clients.customerB.orders.byId.query({ id: orderOfA.id }).catch((e) => e);
    const missing = await clients.customerB.orders.byId.query({ id: randomUUID() }).catch((e) => e);
    expect(keelErrorCode(foreign)).toBe('NOT_FOUND');
    expect(keelErrorCode(missing)).toBe('NOT_FOUND');
    expect(foreign.message).toBe(missing.message);
  });

  test("an admin can read any customer's order", async () => {
    const order = await clients.admin.orders.byId.query({ id: orderOfA.id });
    expect(order).toEqual(orderOfA);
    expect(order.userId).toBe(customerA.id);
  });

  test("customer B's order list never contains customer A's orders", async () => {
    const extra = await placeOrder(clients.customerA);
    const ofB = await clients.customerB.orders.list.query({ limit: 100 });
    expect(ofB.items.length).toBeGreaterThan(0);
    expect(ofB.items.every((o) => o.userId === customerB.id)).toBe(true);
    expect(ofB.items.map((o) => o.id)).not.toContain(orderOfA.id);
    expect(ofB.items.map((o) => o.id)).not.toContain(extra.id);
    const ofA = await clients.customerA.orders.list.query({ limit: 100 });
    expect(ofA.items.map((o) => o.id)).toEqual(expect.arrayContaining([orderOfA.id, extra.id]));
    expect(ofA.items.every((o) => o.userId === customerA.id)).toBe(true);
  });

  test('a customer passing userId (even their own) or allUsers: true to orders.list is FORBIDDEN', async () => {
    const b = clients.customerB;
    expect(await codeOf(b.orders.list.query({ limit: 5, userId: customerA.id }))).toBe('FORBIDDEN');
    expect(await codeOf(b.orders.list.query({ limit: 5, userId: customerB.id }))).toBe('FORBIDDEN');
    expect(await codeOf(b.orders.list.query({ limit: 5, allUsers: true }))).toBe('FORBIDDEN');
  });

  test("an admin may list one customer's orders with userId, or everyone's with allUsers", async () => {
    const ofA = await clients.admin.orders.list.query({ limit: 100, userId: customerA.id });
    expect(ofA.items.length).toBeGreaterThan(0);
    expect(ofA.items.every((o) => o.userId === customerA.id)).toBe(true);
    const all = await clients.admin.orders.list.query({ limit: 100, allUsers: true });
    expect(all.items.map((o) => o.id)).toEqual(expect.arrayContaining([orderOfA.id, orderOfB.id]));
    const own = await clients.admin.orders.list.query({ limit: 100 });
    expect(own.items.every((o) => o.userId === admin.id)).toBe(true);
  });

  test("customer A's token can never act as B: byId and cancel of B's order are NOT_FOUND and it stays pending", async () => {
    const order = await placeOrder(clients.customerB, 3);
    const stockBefore = (await anonymous.products.byId.query({ id: product.id })).stockQuantity;
    expect(await codeOf(clients.customerA.orders.byId.query({ id: order.id }))).toBe('NOT_FOUND');
    expect(await codeOf(clients.customerA.orders.cancel.mutate({ id: order.id }))).toBe(
      'NOT_FOUND',
    );
    expect((await clients.customerB.orders.byId.query({ id: order.id })).status).toBe('pending');
    expect((await anonymous.products.byId.query({ id: product.id })).stockQuantity).toBe(
      stockBefore,
    );
    const row = await db
      .selectFrom('orders')
      .select(['status', 'user_id'])
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', user_id: customerB.id });
  });

  test('a customer calling orders.updateStatus is FORBIDDEN and the order is unchanged', async () => {
    const order = await placeOrder(clients.customerA);
    expect(
      await codeOf(clients.customerA.orders.updateStatus.mutate({ id: order.id, status: 'paid' })),
    ).toBe('FORBIDDEN');
    expect((await clients.customerA.orders.byId.query({ id: order.id })).status).toBe('pending');
  });

  test("in one batched request, A's own order is served and B's is NOT_FOUND", async () => {
    const before = app.requests.length;
    const [own, foreign] = await Promise.all([
      codeOf(clients.customerA.orders.byId.query({ id: orderOfA.id })),
      codeOf(clients.customerA.orders.byId.query({ id: orderOfB.id })),
    ]);
    expect(app.requests.length - before).toBe(1);
    expect([own, foreign]).toEqual(['OK', 'NOT_FOUND']);
  });
});

describe('products: admin-only writes and inactive products', () => {
  test('products.list with includeInactive is FORBIDDEN for anonymous and customers, OK for admin', async () => {
    for (const who of ['anonymous', 'customerA', 'customerB'] as const) {
      expect(
        await codeOf(clients[who].products.list.query({ limit: 100, includeInactive: true })),
      ).toBe('FORBIDDEN');
    }
    const page = await clients.admin.products.list.query({ limit: 100, includeInactive: true });
    expect(page.items.map((p) => p.id)).toEqual(
      expect.arrayContaining([product.id, inactiveProduct.id]),
    );
  });

  test('the default product list hides inactive products, even from admins', async () => {
    for (const who of whos) {
      const page = await clients[who].products.list.query({ limit: 100 });
      expect(page.items.map((p) => p.id)).toContain(product.id);
      expect(page.items.map((p) => p.id)).not.toContain(inactiveProduct.id);
    }
  });

  test('an inactive product is NOT_FOUND by id and sku for anonymous and customers, visible to admin', async () => {
    for (const who of ['anonymous', 'customerA', 'customerB'] as const) {
      const c = clients[who];
      expect(await codeOf(c.products.byId.query({ id: inactiveProduct.id }))).toBe('NOT_FOUND');
      expect(await codeOf(c.products.bySku.query({ sku: inactiveProduct.sku }))).toBe('NOT_FOUND');
    }
    expect(await clients.admin.products.byId.query({ id: inactiveProduct.id })).toEqual(
      inactiveProduct,
    );
    expect(await clients.admin.products.bySku.query({ sku: inactiveProduct.sku })).toEqual(
      inactiveProduct,
    );
  });

  test('an inactive product cannot be ordered: NOT_FOUND', async () => {
    const run = clients.customerA.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: inactiveProduct.id, quantity: 1 }],
    });
    expect(await codeOf(run)).toBe('NOT_FOUND');
  });

  test("a customer's refused product writes change nothing", async () => {
    const sku = newSku();
    expect(
      await codeOf(
        clients.customerA.products.create.mutate({ sku, name: 'Sneaky', priceCents: 1 }),
      ),
    ).toBe('FORBIDDEN');
    expect(await codeOf(clients.admin.products.bySku.query({ sku }))).toBe('NOT_FOUND');

    expect(
      await codeOf(clients.customerA.products.update.mutate({ id: product.id, priceCents: 1 })),
    ).toBe('FORBIDDEN');
    expect(await codeOf(clients.customerA.products.delete.mutate({ id: product.id }))).toBe(
      'FORBIDDEN',
    );
    const after = await anonymous.products.byId.query({ id: product.id });
    expect(after.priceCents).toBe(500);
  });

  test('a customer cannot make themselves admin-capable: users.list stays FORBIDDEN after updateMe', async () => {
    await clients.customerB.users.updateMe.mutate({ displayName: 'Bob the Admin' });
    expect(await codeOf(clients.customerB.users.list.query({ limit: 5 }))).toBe('FORBIDDEN');
    expect((await clients.customerB.auth.me.query()).role).toBe('customer');
  });
});
