import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { startApp } from './harness';

const testDb = await createTestDatabase();
const app = await startApp(testDb.db, {
  authRateLimitPerMinute: 3,
  maxBatchSize: 5,
  corsOrigins: ['https://shop.example.com'],
});
afterAll(async () => {
  await app.close();
  await testDb.destroy();
});

describe('limits', () => {
  test('the login rate limit refuses the 4th attempt in a minute with TOO_MANY_REQUESTS', async () => {
    const codes: (string | null)[] = [];
    for (let i = 0; i < 5; i += 1) {
      try {
        await app
          .client()
          .auth.login.mutate({ email: 'nobody@example.com', password: 'wrong-password-1' });
        codes.push('OK');
      } catch (error) {
        codes.push(keelErrorCode(error));
      }
    }
    expect(codes).toEqual([
      'UNAUTHORIZED',
      'UNAUTHORIZED',
      'UNAUTHORIZED',
      'TOO_MANY_REQUESTS',
      'TOO_MANY_REQUESTS',
    ]);
  });

  test('a batch above the cap is refused with 400, a batch at the cap is served', async () => {
    const calls = (n: number) => Array.from({ length: n }, () => 'health.check').join(',');
    const input = (n: number) =>
      encodeURIComponent(
        JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, {}]))),
      );
    const atCap = await fetch(`${app.trpcUrl}/${calls(5)}?batch=1&input=${input(5)}`);
    expect(atCap.status).toBe(200);
    const overCap = await fetch(`${app.trpcUrl}/${calls(6)}?batch=1&input=${input(6)}`);
    expect(overCap.status).toBe(400);
  });

  test('CORS headers only for allowlisted origins', async () => {
    const allowed = await fetch(`${app.url}/healthz`, {
      headers: { origin: 'https://shop.example.com' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    const other = await fetch(`${app.url}/healthz`, {
      headers: { origin: 'https://evil.example.com' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${app.trpcUrl}/auth.login`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
  });

  test('security headers are set and x-powered-by is not', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
