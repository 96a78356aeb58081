// The server's metrics and tracing see every call through the context's
// `aroundCall`, with the code the caller gets: refusals raised before the
// procedure runs (read limit, sign-in, admin, attempts) as much as errors
// the procedure itself ends with, mapped from the database.
import { randomUUID } from 'node:crypto';
import { createTestDatabase, createUser, makeProduct } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, expect, test } from 'vitest';
import { type CallWrapper, createInnerContext } from '../src/context';
import { createCaller } from '../src/index';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const [customer, admin] = await Promise.all([
  createUser(testDb.db),
  createUser(testDb.db, { role: 'admin' }),
]);

/** A caller whose every call is recorded as `path code`, in the order they finish. */
function recorded(options: { token?: string; allowRead?: () => boolean } = {}) {
  const seen: string[] = [];
  const aroundCall: CallWrapper = async (call, run, outcome) => {
    const result = await run();
    seen.push(`${call.path} ${outcome(result)}`);
    return result;
  };
  const caller = createCaller(
    createInnerContext({
      db: testDb.db,
      aroundCall,
      settings: { readRefusalDelayMs: 0 },
      ...options,
    }),
  );
  return { caller, seen };
}

/** The tRPC code a call fails with, or OK. */
async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    return error instanceof TRPCError ? error.code : 'NOT_A_TRPC_ERROR';
  }
}

test('the wrapper sees the code each call ends with, refusals before the procedure included', async () => {
  const product = await makeProduct(testDb.db);
  const anonymous = recorded();
  const signedIn = recorded({ token: customer.token });
  const asAdmin = recorded({ token: admin.token });
  const limited = recorded({ allowRead: () => false });
  const expected: [Promise<unknown>, string][] = [
    [anonymous.caller.products.byId({ id: product.id }), 'OK'],
    [anonymous.caller.products.byId({ id: randomUUID() }), 'NOT_FOUND'],
    // Refused by the access check, before the procedure runs.
    [anonymous.caller.orders.list({ limit: 5 }), 'UNAUTHORIZED'],
    [signedIn.caller.products.create({ sku: 'WRAP-1', name: 'x', priceCents: 1 }), 'FORBIDDEN'],
    // Refused by the read limit, before everything else.
    [limited.caller.products.list({ limit: 5 }), 'TOO_MANY_REQUESTS'],
    // The database refuses it (a duplicate SKU), mapped to CONFLICT on the way out.
    [
      asAdmin.caller.products.create({ sku: product.sku, name: 'Twin', priceCents: 100 }),
      'CONFLICT',
    ],
  ];
  const codes = await Promise.all(expected.map(([call]) => codeOf(call)));
  expect(codes).toEqual(expected.map(([, code]) => code));
  expect(anonymous.seen.sort()).toEqual([
    'orders.list UNAUTHORIZED',
    'products.byId NOT_FOUND',
    'products.byId OK',
  ]);
  expect(signedIn.seen).toEqual(['products.create FORBIDDEN']);
  expect(limited.seen).toEqual(['products.list TOO_MANY_REQUESTS']);
  expect(asAdmin.seen).toEqual(['products.create CONFLICT']);
});

test('a token the server does not accept is refused by public procedures too, and seen so', async () => {
  const stale = recorded({ token: 'x'.repeat(43) });
  expect(await codeOf(stale.caller.products.list({ limit: 5 }))).toBe('UNAUTHORIZED');
  expect(stale.seen).toEqual(['products.list UNAUTHORIZED']);
});
