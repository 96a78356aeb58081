// Over HTTP through the real client: the customer journey (journey.ts: an
// admin adds a product, a customer registers, signs in, browses every
// product, orders, lists, cancels, and sees an order shipped) against one
// app; then batching, and errors as a client receives them.
import { randomUUID } from 'node:crypto';
import { keelErrorCode, keelFieldErrors } from '@keel/client';
import { createTestDatabase, createUser, makeProduct } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { appDb, startApp } from './harness';
import { customerJourney } from './journey';

const testDb = await createTestDatabase();
const catalogue = await Promise.all(
  Array.from({ length: 37 }, (_, i) =>
    makeProduct(testDb.db, {
      sku: `E2E-${String(i).padStart(3, '0')}`,
      name: `End To End ${i}`,
      priceCents: 100 + (i % 7) * 50,
      stockQuantity: 5,
    }),
  ),
);
const admin = await createUser(testDb.db, { role: 'admin' });
// The service's own kind of pool: named prepared statements on.
const db = appDb(testDb.urls.app);
const app = await startApp(db, { authRateLimitPerMinute: 1_000 });
afterAll(async () => {
  await app.close();
  await db.destroy();
  await testDb.destroy();
});

describe('a customer, over HTTP through the real client', () => {
  test('an admin adds a product; a customer registers, logs in, pages through every product, orders, lists, cancels, and sees an order shipped', async () => {
    await customerJourney({
      client: app.client,
      adminToken: admin.token,
      catalogueSkus: catalogue.map((p) => p.sku),
    });
  });
});

describe('batching', () => {
  test('several calls in one tick travel as one HTTP request', async () => {
    const keel = app.client();
    const before = app.requests.length;
    const [a, b, c] = await Promise.all([
      keel.products.list.query({ limit: 1 }),
      keel.products.bySku.query({ sku: 'E2E-002' }),
      keel.health.check.query(),
    ]);
    expect(a.items).toHaveLength(1);
    expect(b.sku).toBe('E2E-002');
    expect(c).toEqual({ database: 'ok' });
    expect(app.requests.length - before).toBe(1);
    expect(app.requests.at(-1)).toContain('products.list,products.bySku,health.check');
  });
});

describe('errors arrive with the documented codes and nothing internal', () => {
  async function caught(run: Promise<unknown>): Promise<unknown> {
    try {
      await run;
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to fail');
  }

  test('invalid input is BAD_REQUEST naming the field', async () => {
    const error = await caught(
      app
        .client()
        .auth.register.mutate({ email: 'short@example.com', password: 'short', displayName: 'S' }),
    );
    expect(keelErrorCode(error)).toBe('BAD_REQUEST');
    expect(keelFieldErrors(error)?.password?.[0]).toMatch(/at least 12/);
  });

  test('a duplicate email is CONFLICT without SQL, constraint internals or a stack', async () => {
    const input = { email: 'dupe@example.com', password: 'dupe-password-123', displayName: 'Dupe' };
    await app.client().auth.register.mutate(input);
    const response = await fetch(`${app.trpcUrl}/auth.register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: input }),
    });
    expect(response.status).toBe(409);
    const body = await response.text();
    expect(JSON.parse(body).error.json.data.code).toBe('CONFLICT');
    expect(body).toContain('email is already registered');
    expect(body).not.toMatch(/duplicate key|users_email_key|insert into|stack|at \w+ \(/i);
  });

  test('no token is UNAUTHORIZED, an unknown order NOT_FOUND, a tampered cursor BAD_REQUEST', async () => {
    expect(keelErrorCode(await caught(app.client().orders.list.query({})))).toBe('UNAUTHORIZED');
    const keel = app.client((await createUser(testDb.db)).token);
    expect(keelErrorCode(await caught(keel.orders.byId.query({ id: randomUUID() })))).toBe(
      'NOT_FOUND',
    );
    expect(
      keelErrorCode(await caught(keel.products.list.query({ cursor: 'bm90LWEtY3Vyc29y' }))),
    ).toBe('BAD_REQUEST');
  });

  test('an oversized body is PAYLOAD_TOO_LARGE and the server keeps serving', async () => {
    const response = await fetch(`${app.trpcUrl}/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { email: 'x@example.com', password: 'x'.repeat(300_000) } }),
    });
    expect(response.status).toBe(413);
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  test('responses carry a request id, taken from x-request-id when sent', async () => {
    const response = await fetch(`${app.url}/healthz`, {
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    const generated = await fetch(`${app.url}/healthz`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
