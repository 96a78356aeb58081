// What every hostile-input suite (hostile-input-*.test.ts) shares: importing
// this module gives the importing test file (vitest isolates files) its own
// database and app, users and products to aim at, the check that an answer is
// a result or a 4xx and never a 500, a fingerprint of every table, and a tally
// of the inputs tried, printed when the file ends.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createTestDatabase,
  createUser,
  makeProduct,
  testPassword,
  uniqueSku,
} from '@keel/platform/testing';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, expect } from 'vitest';
import { startApp } from '../harness';

export const testDb = await createTestDatabase();
export const db = testDb.db;
export const app = await startApp(db, { authRateLimitPerMinute: 100_000 });

// ---------------------------------------------------------------------------
// Fixtures: an admin, a customer, products to order, products to spend, orders.

export const password = testPassword;
export const anonymousClient = app.client();
export const customer = await createUser(db, { label: 'customer' });
export const admin = await createUser(db, { label: 'admin', role: 'admin' });
export const adminClient = app.client(admin.token);
export const customerClient = app.client(customer.token);

export const orderable = await Promise.all(
  [1, 2, 3].map((i) =>
    makeProduct(db, {
      sku: uniqueSku('ORDER'),
      name: `Orderable ${i}`,
      priceCents: 100 * i,
      stockQuantity: 1_000_000_000,
    }),
  ),
);
// products.update and products.delete aim at these, so the orderable ones stay orderable.
export const spare = await Promise.all(
  [1, 2, 3, 4, 5].map((i) =>
    makeProduct(db, {
      sku: uniqueSku('SPARE'),
      name: `Spare ${i}`,
      priceCents: i,
      stockQuantity: 0,
    }),
  ),
);
export const orders = await Promise.all(
  orderable.map((product) =>
    customerClient.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: product.id, quantity: 1 }],
    }),
  ),
);
export const realCursors = [
  (await anonymousClient.products.list.query({ limit: 1 })).nextCursor,
  (await anonymousClient.products.list.query({ limit: 1, sort: 'name' })).nextCursor,
  (await anonymousClient.products.list.query({ limit: 1, sort: 'price_desc' })).nextCursor,
  (await adminClient.users.list.query({ limit: 1 })).nextCursor,
  (await customerClient.orders.list.query({ limit: 1 })).nextCursor,
].filter((cursor): cursor is string => typeof cursor === 'string');

afterAll(async () => {
  const lines = [...tried.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, outcomes]) => {
      const total = [...outcomes.values()].reduce((sum, n) => sum + n, 0);
      const split = [...outcomes.entries()]
        .sort(([, a], [, b]) => b - a)
        .map(([code, n]) => `${code} ${n}`)
        .join(', ');
      return `  ${path.padEnd(22)} ${String(total).padStart(5)}  (${split})`;
    });
  const all = [...tried.values()].flatMap((o) => [...o.values()]).reduce((sum, n) => sum + n, 0);
  console.log(`hostile inputs tried per procedure (${all} in all):\n${lines.join('\n')}`);
  await app.close();
  await testDb.destroy();
});

// ---------------------------------------------------------------------------
// Bookkeeping: inputs tried per procedure, by outcome.

const tried = new Map<string, Map<string, number>>();
export function record(path: string, outcome: string): void {
  const outcomes = tried.get(path) ?? new Map<string, number>();
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  tried.set(path, outcomes);
}

// ---------------------------------------------------------------------------
// Raw HTTP and the "served, never a 500" check.

/** The statuses a refused call may have (README, Errors). */
const errorStatuses = [400, 401, 403, 404, 405, 409, 413, 415, 429];

interface TrpcErrorEntry {
  error: { json: { message: string; data: { code: string; httpStatus: number } } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Sends a request and checks the answer: 200/207 with results, or tRPC errors
 * with a 4xx status, never INTERNAL_SERVER_ERROR, never a stack trace. Returns
 * 'OK' or the error code of each call (one per call of a batch).
 */
export async function served(url: string, init: RequestInit = {}): Promise<string[]> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (response.status === 431) {
    // Node refuses a request line over its 16 KiB header limit before the app runs.
    expect(init.method ?? 'GET').toBe('GET');
    expect(url.length).toBeGreaterThan(8_000);
    return ['REQUEST_HEADER_FIELDS_TOO_LARGE'];
  }
  expect([200, 207, ...errorStatuses], text.slice(0, 300)).toContain(response.status);
  expect(text).not.toMatch(/node_modules|\bat .+ \(.+:\d+:\d+\)/);
  const body: unknown = JSON.parse(text);
  const entries = Array.isArray(body) ? body : [body];
  expect(entries.length).toBeGreaterThan(0);
  return entries.map((entry: unknown) => {
    if (isRecord(entry) && isRecord(entry.result)) {
      expect([200, 207]).toContain(response.status);
      expect('data' in entry.result).toBe(true);
      return 'OK';
    }
    const { data } = (entry as TrpcErrorEntry).error.json;
    expect(data.code, text.slice(0, 300)).not.toBe('INTERNAL_SERVER_ERROR');
    expect(errorStatuses).toContain(data.httpStatus);
    if (response.status !== 207) expect(data.httpStatus).toBe(response.status);
    return data.code;
  });
}

export async function stillServing(): Promise<void> {
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  // The database pool still answers: no connection was leaked or left in a transaction.
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
}

/** Everything a refused request must not change (last_used_at is touched by reads). */
export async function fingerprint(): Promise<Record<string, string>> {
  const digest = (table: string) =>
    sql<string>`(select count(*) || ':' || coalesce(md5(string_agg(t::text, '|' order by t.id)), '') from ${sql.table(table)} t)`;
  const { rows } = await sql<Record<string, string>>`
    select
      ${digest('users')} as users,
      ${digest('products')} as products,
      ${digest('orders')} as orders,
      ${digest('order_items')} as order_items,
      (select count(*) || ':' || coalesce(md5(string_agg(
        concat_ws(',', t.id, t.user_id, t.token_hash, t.expires_at, t.deleted_at), '|' order by t.id
      )), '') from sessions t) as sessions`.execute(db);
  return rows[0] ?? {};
}

// ---------------------------------------------------------------------------
// Callers. logout and deleteMe use up their caller: they get a fresh one per run.

export type Caller = 'anonymous' | 'forged' | 'customer' | 'admin';
/** Mostly signed in (as a customer and as an admin), so the input reaches the procedure. */
export const caller = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Caller>('anonymous') },
  { weight: 1, arbitrary: fc.constant<Caller>('forged') },
  { weight: 3, arbitrary: fc.constant<Caller>('customer') },
  { weight: 3, arbitrary: fc.constant<Caller>('admin') },
);

/**
 * A fresh user and session for calls that use them up. Without a password,
 * so the wrong ones users.deleteMe is sent are refused without scrypt.
 */
export async function throwawayToken(role: 'customer' | 'admin'): Promise<string> {
  return (await createUser(db, { label: 'throwaway', role, password: null })).token;
}

export async function tokenOf(
  caller: Caller,
  consumesCaller: boolean,
): Promise<string | undefined> {
  if (caller === 'anonymous') return undefined;
  if (caller === 'forged') return randomBytes(32).toString('base64url');
  if (consumesCaller) return throwawayToken(caller);
  return caller === 'admin' ? admin.token : customer.token;
}

export function headersOf(token: string | undefined, extra: Record<string, string> = {}) {
  return { ...extra, ...(token ? { authorization: `Bearer ${token}` } : {}) };
}
