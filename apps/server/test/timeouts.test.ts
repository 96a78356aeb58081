import { keelErrorCode } from '@keel/client';
import { createDb, type DB, type DbConfig } from '@keel/db';
import { adminDb } from '@keel/platform';
import { createTestDatabase } from '@keel/platform/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { type RunningApp, startApp } from './harness';

const testDb = await createTestDatabase();
await testDb.db
  .insertInto('products')
  .values([
    { sku: 'TIMEOUT-1', name: 'Waits', price_cents: 100, stock_quantity: 5 },
    { sku: 'TIMEOUT-2', name: 'Waits too', price_cents: 200, stock_quantity: 5 },
  ])
  .execute();
const owner = adminDb(testDb.urls.owner);
afterAll(async () => {
  await owner.destroy();
  await testDb.destroy();
});

/** Holds `lock table products in access exclusive mode` in an open transaction until released. */
async function lockProducts(): Promise<{ release(): Promise<void> }> {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const transaction = owner.transaction().execute(async (trx) => {
    await sql`lock table products in access exclusive mode`.execute(trx);
    locked();
    await held;
  });
  await Promise.race([isLocked, transaction]);
  return {
    release: async () => {
      release();
      await transaction;
    },
  };
}

async function withApp(
  config: Partial<DbConfig>,
  run: (app: RunningApp, db: Kysely<DB>) => Promise<void>,
): Promise<void> {
  const db = createDb({ connectionString: testDb.urls.app, maxConnections: 4, ...config });
  const app = await startApp(db);
  try {
    await run(app, db);
  } finally {
    await app.close();
    await db.destroy();
  }
}

async function timed(run: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await run;
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('a query that runs too long answers TIMEOUT over HTTP', () => {
  test('past statement_timeout (200 ms) while waiting on a lock: TIMEOUT, then the app serves again', async () => {
    await withApp({ statementTimeoutMs: 200, lockTimeoutMs: 10_000 }, async (app) => {
      const keel = app.client();
      const lock = await lockProducts();
      let blocked: { ms: number; error: unknown };
      try {
        blocked = await timed(keel.products.list.query({ limit: 5 }));
        // Calls that do not touch the locked table go on meanwhile.
        expect(await keel.health.check.query()).toEqual({ database: 'ok' });
      } finally {
        await lock.release();
      }
      expect(keelErrorCode(blocked.error)).toBe('TIMEOUT');
      expect((blocked.error as Error).message).toBe('the database took too long to answer');
      expect(blocked.ms).toBeGreaterThanOrEqual(150);
      expect(blocked.ms).toBeLessThan(2_000);

      const page = await keel.products.list.query({ limit: 5 });
      expect(page.items.map((p) => p.sku).sort()).toEqual(['TIMEOUT-1', 'TIMEOUT-2']);
    });
  });

  test('the HTTP status of a timed-out call is 408, with no SQL in the body', async () => {
    await withApp({ statementTimeoutMs: 200, lockTimeoutMs: 10_000 }, async (app) => {
      const lock = await lockProducts();
      let response: Response;
      let body: string;
      try {
        response = await fetch(`${app.trpcUrl}/products.list?input=${encodeURIComponent('{}')}`);
        body = await response.text();
      } finally {
        await lock.release();
      }
      expect(response.status).toBe(408);
      expect(JSON.parse(body).error.json.data.code).toBe('TIMEOUT');
      expect(body).not.toMatch(/statement timeout|canceling statement|select |products"/i);
      expect((await fetch(`${app.trpcUrl}/products.list`)).status).toBe(200);
    });
  });

  test('past lock_timeout (200 ms) on a write: TIMEOUT, and nothing is written', async () => {
    await withApp({ statementTimeoutMs: 10_000, lockTimeoutMs: 200 }, async (app, db) => {
      const anonymous = app.client();
      const { token } = await anonymous.auth.register.mutate({
        email: 'timeouts@example.com',
        password: 'timeouts-password-1',
        displayName: 'Timeouts',
      });
      const keel = app.client(token);
      const product = await keel.products.bySku.query({ sku: 'TIMEOUT-1' });
      const lock = await lockProducts();
      let blocked: { ms: number; error: unknown };
      try {
        blocked = await timed(
          keel.orders.place.mutate({
            idempotencyKey: crypto.randomUUID(),
            items: [{ productId: product.id, quantity: 1 }],
          }),
        );
      } finally {
        await lock.release();
      }
      expect(keelErrorCode(blocked.error)).toBe('TIMEOUT');
      expect(blocked.ms).toBeLessThan(2_000);
      expect(await db.selectFrom('orders').select('id').execute()).toEqual([]);
      expect((await keel.products.byId.query({ id: product.id })).stockQuantity).toBe(5);
    });
  });
});
