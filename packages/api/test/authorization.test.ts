import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { appRouter, createCaller } from '../src/index';
import { expectedAccess, type Outcome, type Who, whos } from './access-rules';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const db = testDb.db;
const anonymous = createCaller(createInnerContext({ db }));
// These customers hold more than five open orders: the cap is hardening.test.ts's concern.
const settings = { maxPendingOrders: 1_000 };
const asUser = (token: string) => createCaller(createInnerContext({ db, token, settings }));

type Caller = ReturnType<typeof createCaller>;

const password = 'correct-horse-battery';

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? 'UNKNOWN';
  }
}

async function register(label: string, role: 'customer' | 'admin' = 'customer') {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const { user, token } = await anonymous.auth.register({ email, password, displayName: label });
  if (role === 'admin') {
    await db.updateTable('users').set({ role: 'admin' }).where('id', '=', user.id).execute();
  }
  return { user, token, email, caller: asUser(token) };
}

const newSku = () => `AZ-${randomUUID().slice(0, 8).toUpperCase()}`;

const [customerA, customerB, admin] = await Promise.all([
  register('alice'),
  register('bob'),
  register('root', 'admin'),
]);

const callers: Record<Who, Caller> = {
  anonymous,
  customerA: customerA.caller,
  customerB: customerB.caller,
  admin: admin.caller,
};

const product = await admin.caller.products.create({
  sku: newSku(),
  name: 'Matrix widget',
  priceCents: 500,
  stockQuantity: 10_000,
});
const inactiveProduct = await admin.caller.products.create({
  sku: newSku(),
  name: 'Hidden widget',
  priceCents: 700,
  stockQuantity: 10,
  isActive: false,
});

function placeOrder(caller: Caller, quantity = 1) {
  return caller.orders.place({
    idempotencyKey: randomUUID(),
    items: [{ productId: product.id, quantity }],
  });
}

const orderOfA = await placeOrder(customerA.caller);
const orderOfB = await placeOrder(customerB.caller);

/** A caller that may be used up: a fresh user of the same role (anonymous stays anonymous). */
async function throwawayCaller(who: Who): Promise<Caller> {
  if (who === 'anonymous') return anonymous;
  return (await register(`throwaway-${who}`, who === 'admin' ? 'admin' : 'customer')).caller;
}

interface Row {
  procedure: string;
  expected: Record<Who, Outcome>;
  /** Use a throwaway user for this row: the call destroys the caller's session or account. */
  throwaway?: boolean;
  /** Sets up what the call needs (outside the measured call), then returns the call. */
  arrange: (caller: Caller) => Promise<() => Promise<unknown>>;
}

const matrix: Row[] = [
  {
    procedure: 'auth.register',
    expected: expectedAccess['auth.register'],
    arrange: async (c) => () =>
      c.auth.register({
        email: `reg-${randomUUID().slice(0, 8)}@example.com`,
        password,
        displayName: 'Newcomer',
      }),
  },
  {
    procedure: 'auth.login',
    expected: expectedAccess['auth.login'],
    arrange: async (c) => () => c.auth.login({ email: customerA.email, password }),
  },
  {
    procedure: 'auth.logout',
    expected: expectedAccess['auth.logout'],
    throwaway: true,
    arrange: async (c) => () => c.auth.logout(),
  },
  {
    procedure: 'auth.me',
    expected: expectedAccess['auth.me'],
    arrange: async (c) => () => c.auth.me(),
  },
  {
    procedure: 'health.check',
    expected: expectedAccess['health.check'],
    arrange: async (c) => () => c.health.check(),
  },
  {
    procedure: 'products.list',
    expected: expectedAccess['products.list'],
    arrange: async (c) => () => c.products.list({ limit: 5 }),
  },
  {
    procedure: 'products.byId',
    expected: expectedAccess['products.byId'],
    arrange: async (c) => () => c.products.byId({ id: product.id }),
  },
  {
    procedure: 'products.bySku',
    expected: expectedAccess['products.bySku'],
    arrange: async (c) => () => c.products.bySku({ sku: product.sku }),
  },
  {
    procedure: 'products.create',
    expected: expectedAccess['products.create'],
    arrange: async (c) => () =>
      c.products.create({ sku: newSku(), name: 'Created', priceCents: 100, stockQuantity: 1 }),
  },
  {
    procedure: 'products.update',
    expected: expectedAccess['products.update'],
    arrange: async (c) => {
      const target = await admin.caller.products.create({
        sku: newSku(),
        name: 'To update',
        priceCents: 100,
      });
      return () => c.products.update({ id: target.id, priceCents: 150 });
    },
  },
  {
    procedure: 'products.delete',
    expected: expectedAccess['products.delete'],
    arrange: async (c) => {
      const target = await admin.caller.products.create({
        sku: newSku(),
        name: 'To delete',
        priceCents: 100,
      });
      return () => c.products.delete({ id: target.id });
    },
  },
  {
    procedure: 'orders.place',
    expected: expectedAccess['orders.place'],
    arrange: async (c) => () => placeOrder(c),
  },
  {
    procedure: 'orders.list',
    expected: expectedAccess['orders.list'],
    arrange: async (c) => () => c.orders.list({ limit: 5 }),
  },
  {
    procedure: 'orders.byId',
    expected: expectedAccess['orders.byId'],
    arrange: async (c) => () => c.orders.byId({ id: orderOfA.id }),
  },
  {
    procedure: 'orders.cancel',
    expected: expectedAccess['orders.cancel'],
    arrange: async (c) => {
      const order = await placeOrder(customerA.caller);
      return () => c.orders.cancel({ id: order.id });
    },
  },
  {
    procedure: 'orders.updateStatus',
    expected: expectedAccess['orders.updateStatus'],
    arrange: async (c) => {
      const order = await placeOrder(customerA.caller);
      return () => c.orders.updateStatus({ id: order.id, status: 'paid' });
    },
  },
  {
    procedure: 'users.list',
    expected: expectedAccess['users.list'],
    arrange: async (c) => () => c.users.list({ limit: 5 }),
  },
  {
    procedure: 'users.updateMe',
    expected: expectedAccess['users.updateMe'],
    arrange: async (c) => () => c.users.updateMe({ displayName: 'Renamed' }),
  },
  {
    procedure: 'users.deleteMe',
    expected: expectedAccess['users.deleteMe'],
    throwaway: true,
    arrange: async (c) => () => c.users.deleteMe({ password }),
  },
];

test('the matrix covers every procedure of the appRouter exactly once', () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  const covered = matrix.map((row) => row.procedure).sort();
  expect(covered).toEqual(procedures);
  expect(new Set(covered).size).toBe(covered.length);
});

describe.each(matrix)('$procedure', (row) => {
  const cells = whos.map((who) => ({ who, expected: row.expected[who] }));
  test.each(cells)('called by $who: $expected', async ({ who, expected }) => {
    const caller = row.throwaway ? await throwawayCaller(who) : callers[who];
    const act = await row.arrange(caller);
    expect(await codeOf(act())).toBe(expected);
  });
});

describe('orders are private to their customer', () => {
  test("a customer cannot read another customer's order: NOT_FOUND, same as a missing order", async () => {
    const foreign = await customerB.caller.orders.byId({ id: orderOfA.id }).catch((e) => e);
    const missing = await customerB.caller.orders.byId({ id: randomUUID() }).catch((e) => e);
    expect(foreign.code).toBe('NOT_FOUND');
    expect(missing.code).toBe('NOT_FOUND');
    expect(foreign.message).toBe(missing.message);
  });

  test("an admin can read any customer's order", async () => {
    const order = await admin.caller.orders.byId({ id: orderOfA.id });
    expect(order).toEqual(orderOfA);
    expect(order.userId).toBe(customerA.user.id);
  });

  test("customer B's order list never contains customer A's orders", async () => {
    const extra = await placeOrder(customerA.caller);
    const ofB = await customerB.caller.orders.list({ limit: 100 });
    expect(ofB.items.length).toBeGreaterThan(0);
    expect(ofB.items.every((o) => o.userId === customerB.user.id)).toBe(true);
    expect(ofB.items.map((o) => o.id)).not.toContain(orderOfA.id);
    expect(ofB.items.map((o) => o.id)).not.toContain(extra.id);
    const ofA = await customerA.caller.orders.list({ limit: 100 });
    expect(ofA.items.map((o) => o.id)).toEqual(expect.arrayContaining([orderOfA.id, extra.id]));
    expect(ofA.items.every((o) => o.userId === customerA.user.id)).toBe(true);
  });

  test('a customer passing userId (even their own) or allUsers: true to orders.list is FORBIDDEN', async () => {
    const b = customerB.caller;
    expect(await codeOf(b.orders.list({ limit: 5, userId: customerA.user.id }))).toBe('FORBIDDEN');
    expect(await codeOf(b.orders.list({ limit: 5, userId: customerB.user.id }))).toBe('FORBIDDEN');
    expect(await codeOf(b.orders.list({ limit: 5, allUsers: true }))).toBe('FORBIDDEN');
  });

  test("an admin may list one customer's orders with userId, or everyone's with allUsers", async () => {
    const ofA = await admin.caller.orders.list({ limit: 100, userId: customerA.user.id });
    expect(ofA.items.length).toBeGreaterThan(0);
    expect(ofA.items.every((o) => o.userId === customerA.user.id)).toBe(true);
    const all = await admin.caller.orders.list({ limit: 100, allUsers: true });
    expect(all.items.map((o) => o.id)).toEqual(expect.arrayContaining([orderOfA.id, orderOfB.id]));
    const own = await admin.caller.orders.list({ limit: 100 });
    expect(own.items.every((o) => o.userId === admin.user.id)).toBe(true);
  });

  test("customer A's token can never act as B: cancelling B's order is NOT_FOUND and it stays pending", async () => {
    const order = await placeOrder(customerB.caller, 3);
    const stockBefore = (await anonymous.products.byId({ id: product.id })).stockQuantity;
    expect(await codeOf(customerA.caller.orders.cancel({ id: order.id }))).toBe('NOT_FOUND');
    expect((await customerB.caller.orders.byId({ id: order.id })).status).toBe('pending');
    expect((await anonymous.products.byId({ id: product.id })).stockQuantity).toBe(stockBefore);
    const row = await db
      .selectFrom('orders')
      .select(['status', 'user_id'])
      .where('id', '=', order.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'pending', user_id: customerB.user.id });
  });

  test('a customer calling orders.updateStatus is FORBIDDEN and the order is unchanged', async () => {
    const order = await placeOrder(customerA.caller);
    expect(
      await codeOf(customerA.caller.orders.updateStatus({ id: order.id, status: 'paid' })),
    ).toBe('FORBIDDEN');
    expect((await customerA.caller.orders.byId({ id: order.id })).status).toBe('pending');
  });
});

describe('products: admin-only writes and inactive products', () => {
  test('products.list with includeInactive is FORBIDDEN for anonymous and customers, OK for admin', async () => {
    for (const who of ['anonymous', 'customerA', 'customerB'] as const) {
      expect(await codeOf(callers[who].products.list({ limit: 100, includeInactive: true }))).toBe(
        'FORBIDDEN',
      );
    }
    const page = await admin.caller.products.list({ limit: 100, includeInactive: true });
    expect(page.items.map((p) => p.id)).toEqual(
      expect.arrayContaining([product.id, inactiveProduct.id]),
    );
  });

  test('the default product list hides inactive products, even from admins', async () => {
    for (const who of whos) {
      const page = await callers[who].products.list({ limit: 100 });
      expect(page.items.map((p) => p.id)).toContain(product.id);
      expect(page.items.map((p) => p.id)).not.toContain(inactiveProduct.id);
    }
  });

  test('an inactive product is NOT_FOUND by id and sku for anonymous and customers, visible to admin', async () => {
    for (const who of ['anonymous', 'customerA', 'customerB'] as const) {
      const c = callers[who];
      expect(await codeOf(c.products.byId({ id: inactiveProduct.id }))).toBe('NOT_FOUND');
      expect(await codeOf(c.products.bySku({ sku: inactiveProduct.sku }))).toBe('NOT_FOUND');
    }
    expect(await admin.caller.products.byId({ id: inactiveProduct.id })).toEqual(inactiveProduct);
    expect(await admin.caller.products.bySku({ sku: inactiveProduct.sku })).toEqual(
      inactiveProduct,
    );
  });

  test('an inactive product cannot be ordered: NOT_FOUND', async () => {
    const run = customerA.caller.orders.place({
      idempotencyKey: randomUUID(),
      items: [{ productId: inactiveProduct.id, quantity: 1 }],
    });
    expect(await codeOf(run)).toBe('NOT_FOUND');
  });

  test("a customer's refused product writes change nothing", async () => {
    const sku = newSku();
    expect(
      await codeOf(customerA.caller.products.create({ sku, name: 'Sneaky', priceCents: 1 })),
    ).toBe('FORBIDDEN');
    expect(await codeOf(admin.caller.products.bySku({ sku }))).toBe('NOT_FOUND');

    expect(await codeOf(customerA.caller.products.update({ id: product.id, priceCents: 1 }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(customerA.caller.products.delete({ id: product.id }))).toBe('FORBIDDEN');
    const after = await anonymous.products.byId({ id: product.id });
    expect(after.priceCents).toBe(500);
  });

  test('a customer cannot make themselves admin-capable: users.list stays FORBIDDEN after updateMe', async () => {
    await customerB.caller.users.updateMe({ displayName: 'Bob the Admin' });
    expect(await codeOf(customerB.caller.users.list({ limit: 5 }))).toBe('FORBIDDEN');
    expect((await customerB.caller.auth.me()).role).toBe('customer');
  });
});
