// What a frontend sees when its stored token dies, and the error details it
// acts on, over HTTP through the real client.
import { randomUUID } from 'node:crypto';
import { createKeelClient, keelErrorCode, keelErrorDetail } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { startApp } from './harness';

const testDb = await createTestDatabase();
await testDb.db
  .insertInto('products')
  .values([
    { sku: 'DEAD-TOKEN-1', name: 'Lamp', price_cents: 1_500, stock_quantity: 3 },
    { sku: 'DEAD-TOKEN-2', name: 'Chair', price_cents: 4_000, stock_quantity: 10 },
  ])
  .execute();
const app = await startApp(testDb.db, { authRateLimitPerMinute: 1_000 });
afterAll(async () => {
  await app.close();
  await testDb.destroy();
});

async function caught(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** A signed-out session's token: the server no longer accepts it. */
async function deadToken(email: string): Promise<string> {
  const { token } = await app.client().auth.register.mutate({
    email,
    password: 'dead-token-password',
    displayName: 'Dead Token',
  });
  await app.client(token).auth.logout.mutate();
  return token;
}

/** A client as a frontend builds it: the token in storage, cleared by the hook. */
function frontend(initial: string | null) {
  const state = { token: initial, rejections: 0 };
  const keel = createKeelClient({
    url: app.trpcUrl,
    getToken: () => state.token,
    onUnauthorized: () => {
      state.rejections += 1;
      state.token = null;
    },
  });
  return { keel, state };
}

describe('a dead token', () => {
  test('is refused by public procedures too, with the TOKEN_REJECTED detail', async () => {
    const token = await deadToken('refused@example.com');
    const error = await caught(app.client(token).products.list.query({ limit: 5 }));
    expect(keelErrorCode(error)).toBe('UNAUTHORIZED');
    expect(keelErrorDetail(error)).toEqual({ reason: 'TOKEN_REJECTED' });
  });

  test('onUnauthorized fires once, the frontend drops the token and the catalogue answers as anonymous', async () => {
    const { keel, state } = frontend(await deadToken('recovers@example.com'));
    const page = await keel.products.list.query({ limit: 5 });
    expect(page.items.map((p) => p.sku).sort()).toEqual(['DEAD-TOKEN-1', 'DEAD-TOKEN-2']);
    expect(state.rejections).toBe(1);
    expect(state.token).toBeNull();

    // A private procedure is then a plain UNAUTHORIZED: no token was sent, so no hook.
    const error = await caught(keel.orders.list.query({ limit: 5 }));
    expect(keelErrorCode(error)).toBe('UNAUTHORIZED');
    expect(keelErrorDetail(error)).toBeNull();
    expect(state.rejections).toBe(1);
  });

  test('calls batched together with a dead token all recover', async () => {
    const { keel, state } = frontend(await deadToken('batched@example.com'));
    const [list, lamp] = await Promise.all([
      keel.products.list.query({ limit: 5 }),
      keel.products.bySku.query({ sku: 'DEAD-TOKEN-1' }),
    ]);
    expect(list.items).toHaveLength(2);
    expect(lamp.name).toBe('Lamp');
    expect(state.rejections).toBeGreaterThanOrEqual(1);
  });

  test('a wrong password at login is not a rejected token', async () => {
    const { token } = await app.client().auth.register.mutate({
      email: 'live@example.com',
      password: 'live-token-password',
      displayName: 'Live',
    });
    const { keel, state } = frontend(token);
    const error = await caught(
      keel.auth.login.mutate({ email: 'live@example.com', password: 'not-the-password' }),
    );
    expect(keelErrorCode(error)).toBe('UNAUTHORIZED');
    expect(keelErrorDetail(error)).toBeNull();
    expect(state.rejections).toBe(0);
    expect(state.token).toBe(token);
    expect((await keel.auth.me.query()).email).toBe('live@example.com');
  });

  test('without the hook, the error reaches the caller unchanged', async () => {
    const keel = createKeelClient({
      url: app.trpcUrl,
      token: await deadToken('plain@example.com'),
    });
    const error = await caught(keel.auth.me.query());
    expect(keelErrorDetail(error)).toEqual({ reason: 'TOKEN_REJECTED' });
  });
});

describe('an order over the stock', () => {
  test('names the product and what is left in its OUT_OF_STOCK detail', async () => {
    const { token } = await app.client().auth.register.mutate({
      email: 'shopper@example.com',
      password: 'shopper-password',
      displayName: 'Shopper',
    });
    const keel = app.client(token);
    const lamp = await keel.products.bySku.query({ sku: 'DEAD-TOKEN-1' });
    const chair = await keel.products.bySku.query({ sku: 'DEAD-TOKEN-2' });
    const error = await caught(
      keel.orders.place.mutate({
        idempotencyKey: randomUUID(),
        items: [
          { productId: chair.id, quantity: 1 },
          { productId: lamp.id, quantity: 4 },
        ],
      }),
    );
    expect(keelErrorCode(error)).toBe('CONFLICT');
    expect(keelErrorDetail(error)).toEqual({
      reason: 'OUT_OF_STOCK',
      productId: lamp.id,
      available: 3,
    });
    // Nothing was written: the chair's stock is untouched.
    expect((await keel.products.byId.query({ id: chair.id })).stockQuantity).toBe(10);
  });
});

describe('a late answer for an old token', () => {
  test('does not sign out a user who signed in again meanwhile', async () => {
    const dead = await deadToken('late@example.com');
    const { token: fresh } = await app.client().auth.login.mutate({
      email: 'late@example.com',
      password: 'dead-token-password',
    });
    // The user signs in again while the call with the old token is in flight.
    let stored: string | null = dead;
    const cleared: (string | null)[] = [];
    let requests = 0;
    const keel = createKeelClient({
      url: app.trpcUrl,
      getToken: () => stored,
      fetch: (input, init) => {
        requests += 1;
        if (requests === 1) stored = fresh;
        return fetch(input, init);
      },
      onUnauthorized: (rejected) => {
        cleared.push(rejected);
        if (stored === rejected) stored = null;
      },
    });
    // The retry goes out with the fresh token and succeeds as that user.
    expect((await keel.auth.me.query()).email).toBe('late@example.com');
    expect(cleared).toEqual([dead]);
    expect(stored).toBe(fresh);
  });

  test('a mutation is not sent again on behalf of a token that appeared since', async () => {
    const dead = await deadToken('switch@example.com');
    const { token: other } = await app.client().auth.register.mutate({
      email: 'someone-else@example.com',
      password: 'someone-else-password',
      displayName: 'Someone Else',
    });
    let stored: string | null = dead;
    const keel = createKeelClient({
      url: app.trpcUrl,
      getToken: () => stored,
      onUnauthorized: () => {
        stored = other; // another account signed in, in another tab
      },
    });
    const error = await caught(keel.users.updateMe.mutate({ displayName: 'Hijacked' }));
    expect(keelErrorDetail(error)).toEqual({ reason: 'TOKEN_REJECTED' });
    expect((await app.client(other).auth.me.query()).displayName).toBe('Someone Else');
  });
});
