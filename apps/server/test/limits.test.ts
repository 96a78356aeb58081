import { Writable } from 'node:stream';
import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { createRequestListener } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';
import { type RunningApp, startApp } from './harness';

const testDb = await createTestDatabase();
const app = await startApp(testDb.db, {
  authRateLimitPerMinute: 3,
  maxBatchSize: 5,
  corsOrigins: ['https://shop.example.com'],
});
// Every app here is reached from 127.0.0.1 and counts sign-ins in its
// database: the store tests get one of their own.
const storeDb = await createTestDatabase();
afterAll(async () => {
  await app.close();
  await testDb.destroy();
  await storeDb.destroy();
});

/** The codes of `n` wrong-password sign-ins, each sent to the next of `apps` in turn. */
async function wrongSignIns(apps: RunningApp[], n: number, email: string) {
  const codes: (string | null)[] = [];
  for (let i = 0; i < n; i += 1) {
    const app = apps[i % apps.length] as RunningApp;
    codes.push(
      await app
        .client()
        .auth.login.mutate({ email, password: 'wrong-password-1' })
        .then(
          () => 'OK',
          (error: unknown) => keelErrorCode(error),
        ),
    );
  }
  return codes;
}

describe('where the sign-in limits count (RATE_LIMIT_STORE)', () => {
  test('in PostgreSQL by default: two instances on one database share one attempt limit', async () => {
    const [one, two] = [
      await startApp(storeDb.db, { authRateLimitPerMinute: 2 }),
      await startApp(storeDb.db, { authRateLimitPerMinute: 2 }),
    ];
    try {
      expect(await wrongSignIns([one, two], 4, 'shared-window@example.com')).toEqual([
        'UNAUTHORIZED',
        'UNAUTHORIZED',
        'TOO_MANY_REQUESTS',
        'TOO_MANY_REQUESTS',
      ]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('memory: each process counts alone, so two instances allow twice as many', async () => {
    const options = { authRateLimitPerMinute: 2, rateLimitStore: 'memory' } as const;
    const [one, two] = [await startApp(storeDb.db, options), await startApp(storeDb.db, options)];
    try {
      expect(await wrongSignIns([one, two], 5, 'own-window@example.com')).toEqual([
        'UNAUTHORIZED',
        'UNAUTHORIZED',
        'UNAUTHORIZED',
        'UNAUTHORIZED',
        'TOO_MANY_REQUESTS',
      ]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('the store in use is logged at start; a store that does not exist is refused, naming the choices', () => {
    const lines: { msg: string; rateLimitStore?: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    createRequestListener({ db: storeDb.db, logger });
    createRequestListener({ db: storeDb.db, logger, rateLimitStore: 'memory' });
    expect(lines.map((l) => [l.rateLimitStore, l.msg])).toEqual([
      [
        'postgres',
        'sign-in limits count in PostgreSQL, shared by every instance; read limits count per instance',
      ],
      [
        'memory',
        'sign-in limits count in this process only (RATE_LIMIT_STORE=memory): run one instance',
      ],
    ]);
    const env = { DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1:5432/keel' };
    expect(loadConfig(env).RATE_LIMIT_STORE).toBe('postgres');
    expect(() => loadConfig({ ...env, RATE_LIMIT_STORE: 'redis' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, RATE_LIMIT_STORE: 'redis' })).toThrow(
      /RATE_LIMIT_STORE: .*"postgres"\|"memory"/,
    );
  });
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
