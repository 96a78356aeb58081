// Abuse paths closed at the HTTP edge: the rate limit cannot be dodged with a
// forged X-Forwarded-For, TRUST_PROXY never means "trust everything", the
// bearer scheme is case-insensitive, and open orders per customer are capped.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { startApp } from './harness';

const testDb = await createTestDatabase();
const [product] = await testDb.db
  .insertInto('products')
  .values({ sku: 'HARD-1', name: 'Hardened', price_cents: 100, stock_quantity: 1_000 })
  .returning('id')
  .execute();
const direct = await startApp(testDb.db, { authRateLimitPerMinute: 3 });
const behindOneProxy = await startApp(testDb.db, { authRateLimitPerMinute: 3, trustProxy: 1 });
const generous = await startApp(testDb.db, {
  authRateLimitPerMinute: 1_000,
  settings: { maxPendingOrders: 5 },
});
afterAll(async () => {
  await direct.close();
  await behindOneProxy.close();
  await generous.close();
  await testDb.destroy();
});

/**
 * A raw login call with a chosen X-Forwarded-For; returns the HTTP status.
 * Each test signs in as an account of its own, so the per-account throttle
 * (which no address dodges) does not mix into the per-address counts.
 */
async function login(url: string, forwardedFor: string, email: string): Promise<number> {
  const res = await fetch(`${url}/trpc/auth.login?batch=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify({ 0: { json: { email, password: 'not-it' } } }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('TRUST_PROXY', () => {
  const base = { DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' };

  test('true is refused at start, naming the accepted forms', () => {
    expect(() => loadConfig({ ...base, TRUST_PROXY: 'true' })).toThrow(ConfigError);
    try {
      loadConfig({ ...base, TRUST_PROXY: 'true' });
    } catch (error) {
      expect((error as ConfigError).message).toMatch(
        /TRUST_PROXY: true would trust an X-Forwarded-For any client can write; give the number of proxies in front \(e\.g\. 1\) or their addresses/,
      );
    }
  });

  test('a hop count, addresses and subnets are accepted; anything else is refused', () => {
    expect(loadConfig(base).TRUST_PROXY).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(
      loadConfig({ ...base, TRUST_PROXY: '10.0.0.1, loopback, 10.1.0.0/16' }).TRUST_PROXY,
    ).toEqual(['10.0.0.1', 'loopback', '10.1.0.0/16']);
    expect(() => loadConfig({ ...base, TRUST_PROXY: 'everyone' })).toThrow(/not everyone/);
  });

  test('without a trusted proxy, a forged X-Forwarded-For does not buy new attempts', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i += 1)
      statuses.push(await login(direct.url, `203.0.113.${i}`, 'forged-nobody@example.com'));
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });

  test('behind one proxy, the address it appended counts, whatever the client wrote before it', async () => {
    // The proxy appends the real client address as the last hop.
    const proxied = 'proxied-nobody@example.com';
    const a = [];
    for (let i = 0; i < 4; i += 1)
      a.push(await login(behindOneProxy.url, `198.51.100.${i}, 192.0.2.10`, proxied));
    expect(a).toEqual([401, 401, 401, 429]);
    // Another real client behind the same proxy has its own budget.
    expect(await login(behindOneProxy.url, '192.0.2.11', proxied)).toBe(401);
  });

  test('an IPv6 client counts as its /64: fresh addresses in the same network buy no attempts', async () => {
    const ipv6 = 'ipv6-nobody@example.com';
    const statuses = [];
    for (let i = 1; i <= 4; i += 1)
      statuses.push(await login(behindOneProxy.url, `2001:db8:0:7::${i.toString(16)}`, ipv6));
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Written another way, the same network is still refused; the next /64 is not.
    expect(await login(behindOneProxy.url, '2001:0DB8:0000:0007:ffff:1:2:3', ipv6)).toBe(429);
    expect(await login(behindOneProxy.url, '2001:db8:0:8::1', ipv6)).toBe(401);
  });
});

describe('reads per address', () => {
  test('past READ_RATE_LIMIT_PER_MINUTE an address gets 429, slowly, and another address is still served', async () => {
    // 60 a minute: 10 may be saved up, then one a second.
    const limited = await startApp(testDb.db, {
      readRateLimitPerMinute: 60,
      settings: { readRefusalDelayMs: 300 },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 12; i += 1) statuses.push(await getFrom(limited.url, '127.0.0.1'));
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
      const started = performance.now();
      expect(await getFrom(limited.url, '127.0.0.1')).toBe(429);
      // A refusal is answered slowly, so a flood cannot come straight back.
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(await getFrom(limited.url, '127.0.0.2')).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('a search costs 10 reads', async () => {
    const limited = await startApp(testDb.db, {
      readRateLimitPerMinute: 60,
      settings: { readRefusalDelayMs: 10 },
    });
    try {
      const search = async () => {
        const res = await fetch(
          `${limited.url}/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { search: 'hardened' } } }))}`,
        );
        await res.arrayBuffer();
        return res.status;
      };
      // The bucket holds 10: one search (10) empties it.
      expect(await search()).toBe(200);
      expect(await search()).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

/** GET a one-call batch of products.list from a chosen loopback source address. */
function getFrom(url: string, localAddress: string): Promise<number> {
  const target = new URL(
    `${url}/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { limit: 1 } } }))}`,
  );
  return new Promise((resolve, reject) => {
    const req = request(target, { localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the bearer scheme', () => {
  test('is accepted in any case, as HTTP authentication schemes are', async () => {
    const { token } = await generous.client().auth.register.mutate({
      email: `scheme-${randomUUID().slice(0, 8)}@example.com`,
      password: 'scheme-password-42',
      displayName: 'Scheme',
    });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await fetch(`${generous.url}/trpc/auth.me?batch=1&input=%7B%7D`, {
        headers: { authorization: `${scheme} ${token}` },
      });
      expect(res.status, scheme).toBe(200);
    }
  });
});

describe('open orders per customer', () => {
  test('the sixth unpaid order is refused until one is paid or cancelled', async () => {
    const { token } = await generous.client().auth.register.mutate({
      email: `hoarder-${randomUUID().slice(0, 8)}@example.com`,
      password: 'hoarder-password-42',
      displayName: 'Hoarder',
    });
    const keel = generous.client(token);
    const place = () =>
      keel.orders.place.mutate({
        idempotencyKey: randomUUID(),
        items: [{ productId: product?.id ?? '', quantity: 1 }],
      });
    const orders = [];
    for (let i = 0; i < 5; i += 1) orders.push(await place());
    let refused: unknown;
    try {
      await place();
    } catch (error) {
      refused = error;
    }
    expect(keelErrorCode(refused)).toBe('TOO_MANY_REQUESTS');
    expect((refused as Error).message).toBe(
      'you have 5 unpaid orders; pay or cancel one before placing another',
    );
    // A replay of an order already placed is still answered.
    const first = orders[0];
    expect(
      (
        await keel.orders.place.mutate({
          idempotencyKey: first?.idempotencyKey ?? '',
          items: [{ productId: product?.id ?? '', quantity: 1 }],
        })
      ).id,
    ).toBe(first?.id);
    await keel.orders.cancel.mutate({ id: first?.id ?? '' });
    expect((await place()).status).toBe('pending');
  });

  test('concurrent orders cannot race past the cap', async () => {
    const { token } = await generous.client().auth.register.mutate({
      email: `racer-${randomUUID().slice(0, 8)}@example.com`,
      password: 'racer-password-42',
      displayName: 'Racer',
    });
    const keel = generous.client(token);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () =>
        keel.orders.place.mutate({
          idempotencyKey: randomUUID(),
          items: [{ productId: product?.id ?? '', quantity: 1 }],
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(
      results
        .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
        .map((r) => keelErrorCode(r.reason)),
    ).toEqual(Array(7).fill('TOO_MANY_REQUESTS'));
  });
});
