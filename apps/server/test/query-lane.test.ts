import { createTestDatabase, createUser } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';
import { startApp } from './harness';

const testDb = await createTestDatabase();
await testDb.db
  .insertInto('products')
  .values(
    Array.from({ length: 7 }, (_, i) => ({
      sku: `FAST-${i}`,
      name: `Fast ${i}`,
      price_cents: 100 * i,
      stock_quantity: i,
    })),
  )
  .execute();
const fast = await startApp(testDb.db);
const regular = await startApp(testDb.db, { queryLane: false });
afterAll(async () => {
  await fast.close();
  await regular.close();
  await testDb.destroy();
});

const batch = (paths: string[], inputs: unknown[]) =>
  `/trpc/${paths.join(',')}?batch=1&input=${encodeURIComponent(
    JSON.stringify(
      Object.fromEntries(
        inputs.map((input, i) => [i, input === undefined ? undefined : { json: input }]),
      ),
    ),
  )}`;

const requests: [string, string][] = [
  ['a page of products', batch(['products.list'], [{ limit: 3, sort: 'price_desc' }])],
  ['a default page (no input)', batch(['products.list'], [undefined])],
  [
    'three reads in one batch',
    batch(
      ['products.list', 'products.bySku', 'health.check'],
      [{ limit: 2 }, { sku: 'FAST-3' }, undefined],
    ),
  ],
  ['a missing product (404)', batch(['products.bySku'], [{ sku: 'NOPE-1' }])],
  [
    'a success and a miss (207)',
    batch(['products.bySku', 'products.bySku'], [{ sku: 'FAST-1' }, { sku: 'NOPE-2' }]),
  ],
  ['invalid input with field errors', batch(['products.list'], [{ limit: 500, sort: 'sideways' }])],
  ['a tampered cursor', batch(['products.list'], [{ cursor: 'bm9wZQ' }])],
  ['a signed-in query without a token', batch(['orders.list'], [{}])],
  ['a mutation sent as GET', batch(['auth.logout'], [undefined])],
  ['an unknown procedure', batch(['products.nope'], [{}])],
  ['malformed input JSON', '/trpc/products.list?batch=1&input=%7Bnot-json'],
  [
    'a non-batched GET',
    `/trpc/products.list?input=${encodeURIComponent(JSON.stringify({ json: { limit: 1 } }))}`,
  ],
];

test.each(requests)(
  '%s: the query lane answers with the same status, headers and bytes as tRPC behind Express',
  async (_, path) => {
    const [a, b] = await Promise.all([fetch(`${fast.url}${path}`), fetch(`${regular.url}${path}`)]);
    expect(a.status).toBe(b.status);
    expect(a.headers.get('content-type')).toBe(b.headers.get('content-type'));
    expect(await a.text()).toBe(await b.text());
    expect(comparableHeaders(a)).toEqual(comparableHeaders(b));
  },
);

// Headers that differ per response or by transfer framing, not by policy.
const framing = new Set([
  'date',
  'etag',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);
function comparableHeaders(response: Response): Record<string, string> {
  return Object.fromEntries(
    [...response.headers.entries()]
      .filter(([name]) => !framing.has(name))
      .map(([name, value]) => [name, name === 'x-request-id' ? 'set' : value]),
  );
}

test('the query lane really serves batched reads (it is not just falling through)', async () => {
  const path = batch(['products.list'], [{ limit: 1 }]);
  const viaFast = await fetch(`${fast.url}${path}`);
  const viaTrpc = await fetch(`${regular.url}${path}`);
  // tRPC's adapter sends its body chunked; the lane sends one buffer with a length.
  expect(viaFast.headers.get('content-length')).not.toBeNull();
  expect(viaTrpc.headers.get('content-length')).toBeNull();
});

// Mutations: POST with a JSON body, as httpBatchLink sends them.
const post = (paths: string[], body: string, headers: Record<string, string> = {}) => ({
  path: `/trpc/${paths.join(',')}?batch=1`,
  init: {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  } satisfies RequestInit,
});
const json = (inputs: unknown[]) =>
  JSON.stringify(
    Object.fromEntries(
      inputs.map((input, i) => [i, input === undefined ? undefined : { json: input }]),
    ),
  );
const [laneAdmin, expressAdmin] = await Promise.all([
  createUser(testDb.db, { role: 'admin', password: null }),
  createUser(testDb.db, { role: 'admin', password: null }),
]);
const asLane = { authorization: `Bearer ${laneAdmin.token}` };
const asExpress = { authorization: `Bearer ${expressAdmin.token}` };

const mutations: [string, ReturnType<typeof post>, ReturnType<typeof post>][] = [
  ...(
    [
      ['a mutation without a token', post(['auth.logout'], json([undefined]))],
      [
        'invalid input with field errors',
        post(['auth.register'], json([{ email: 'not-an-email', password: 'x', displayName: '' }])),
      ],
      ['malformed body JSON', post(['auth.logout'], '{not-json')],
      ['a batch body that is an array', post(['auth.logout'], '[1]')],
      ['a body of null', post(['auth.logout'], 'null')],
      ['a query sent as POST', post(['products.list'], json([{ limit: 1 }]))],
      [
        'a query and a mutation in one POST',
        post(['products.list', 'auth.logout'], json([{}, {}])),
      ],
      ['an unknown procedure', post(['products.nope'], json([{}]))],
      [
        'a body that is not JSON by its content type',
        post(['auth.logout'], json([undefined]), { 'content-type': 'text/plain' }),
      ],
      ['a body over the cap', post(['auth.logout'], JSON.stringify({ 0: 'x'.repeat(200_000) }))],
    ] as const
  ).map(([name, request]): [string, ReturnType<typeof post>, ReturnType<typeof post>] => [
    name,
    request,
    request,
  ]),
  // Admins' calls, each server with its own admin (a logout ends the session it is sent with).
  [
    'a missing product (NOT_FOUND) for an admin',
    post(['products.delete'], json([{ id: '00000000-0000-4000-8000-000000000000' }]), asLane),
    post(['products.delete'], json([{ id: '00000000-0000-4000-8000-000000000000' }]), asExpress),
  ],
  [
    // The refusal needs no session, so it cannot race the logout beside it.
    'a success and a refusal in one batch (207)',
    post(
      ['auth.logout', 'auth.register'],
      json([undefined, { email: 'not-an-email', password: 'x', displayName: '' }]),
      asLane,
    ),
    post(
      ['auth.logout', 'auth.register'],
      json([undefined, { email: 'not-an-email', password: 'x', displayName: '' }]),
      asExpress,
    ),
  ],
];

test.each(mutations)(
  '%s: the lane answers a POST with the same status, headers and bytes as tRPC behind Express',
  async (_, viaLane, viaExpress) => {
    const [a, b] = await Promise.all([
      fetch(`${fast.url}${viaLane.path}`, viaLane.init),
      fetch(`${regular.url}${viaExpress.path}`, viaExpress.init),
    ]);
    expect(a.status).toBe(b.status);
    expect(await a.text()).toBe(await b.text());
    expect(comparableHeaders(a)).toEqual(comparableHeaders(b));
  },
);

test('the lane really serves mutations, and a body sent in chunks without a length goes to tRPC', async () => {
  const user = await createUser(testDb.db, { password: null });
  const sent = post(['auth.logout'], json([undefined]), { authorization: `Bearer ${user.token}` });
  const viaLane = await fetch(`${fast.url}${sent.path}`, sent.init);
  expect(viaLane.status).toBe(200);
  expect(viaLane.headers.get('content-length')).not.toBeNull();
  // The session really ended: the same token is refused now.
  const again = await fetch(`${fast.url}${sent.path}`, sent.init);
  expect(again.status).toBe(401);

  const other = await createUser(testDb.db, { password: null });
  const body = new TextEncoder().encode(json([undefined]));
  const chunked = await fetch(`${fast.url}${sent.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` },
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  expect(chunked.status).toBe(200);
  // tRPC's adapter answers chunked: the lane did not take it.
  expect(chunked.headers.get('content-length')).toBeNull();
  expect(await chunked.json()).toEqual([{ result: { data: { json: { signedOut: true } } } }]);
});
