import { createTestDatabase } from '@keel/platform/testing';
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
