// Every request, whichever route answers it, passes the one pipeline once:
// helmet's headers, a request id, one log line, CORS.
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import { createTestDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, describe, expect, test } from 'vitest';
import { createRequestListener } from '../src/app';
import { loadConfig } from '../src/config';
import { createServiceDb } from '../src/database';

const lines: { msg: string; requestId?: string; path?: string; status?: number }[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
    done();
  },
});
const testDb = await createTestDatabase();
const origin = 'https://shop.example.com';
const server = createServer(
  createRequestListener({
    db: testDb.db,
    logger: pino({ level: 'debug' }, sink),
    corsOrigins: [origin],
  }),
).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await testDb.destroy();
});

const query = `/trpc/products.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { limit: 1 } } }))}`;
const routes: [string, string, RequestInit][] = [
  ['a batched read (the query lane)', query, {}],
  [
    'a mutation (the lane)',
    '/trpc/auth.login?batch=1',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ 0: { json: { email: 'nobody@example.com', password: 'x' } } }),
    },
  ],
  ['the liveness check', '/healthz', {}],
  ['an unknown path', '/nowhere', {}],
];

describe('the one HTTP pipeline', () => {
  test.each(routes)(
    '%s gets helmet headers, a request id, CORS and one log line',
    async (_, path, init) => {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          origin,
          'x-request-id': `req-${path.replace(/[^a-z]/g, '').slice(0, 40)}`,
        },
      });
      await res.arrayBuffer();
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      const requestId = res.headers.get('x-request-id');
      expect(requestId).toBe(`req-${path.replace(/[^a-z]/g, '').slice(0, 40)}`);
      await expect
        .poll(() => lines.filter((l) => l.msg === 'request' && l.requestId === requestId).length)
        .toBe(1);
      const logged = lines.find((l) => l.msg === 'request' && l.requestId === requestId);
      expect(logged?.status).toBe(res.status);
      expect(logged?.path).toBe(path.split('?')[0]);
    },
  );

  test('a preflight is answered by the pipeline with the allowed methods', async () => {
    const res = await fetch(`${base}/trpc/orders.place`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('content-security-policy')).not.toBeNull();
  });

  test('an origin outside the allowlist gets no CORS headers, but the answer still varies by Origin', async () => {
    const res = await fetch(`${base}/healthz`, { headers: { origin: 'https://evil.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    // Its preflight is not answered as one: it goes on to the routes (tRPC refuses it).
    const preflight = await fetch(`${base}/trpc/orders.place`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).not.toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/origin/i);
    const bare = await fetch(`${base}/healthz`);
    expect(bare.headers.get('vary')).toMatch(/origin/i);
  });
});

describe('headers and logs', () => {
  test("tRPC's Vary is merged with CORS's Vary: Origin, on the lane and on Express", async () => {
    for (const [, path, init] of routes.slice(0, 2)) {
      const res = await fetch(`${base}${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), origin },
      });
      await res.arrayBuffer();
      const vary = (res.headers.get('vary') ?? '').toLowerCase();
      expect(vary, path).toContain('origin');
      expect(vary, path).toContain('trpc-accept');
    }
  });

  test('a failed call on the lane is logged with its request id', async () => {
    const cursorFailure = `/trpc/orders.list?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: {} } }))}`;
    const res = await fetch(`${base}${cursorFailure}`, {
      headers: {
        'x-request-id': 'lane-failure-1',
        authorization: 'Bearer not-a-real-token-at-all-0000',
      },
    });
    await res.arrayBuffer();
    expect(res.status).toBe(401);
    await expect
      .poll(() => lines.filter((l) => l.requestId === 'lane-failure-1').map((l) => l.msg))
      .toEqual(expect.arrayContaining(['procedure refused', 'request']));
  });
});

test('a client that goes away mid-body on the lane is not logged as a failure, and the server answers on', async () => {
  const { port } = server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  // Promises 500 bytes, sends 20, hangs up.
  socket.write(
    'POST /trpc/auth.logout?batch=1 HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
      'x-request-id: gone-mid-body-1\r\ncontent-length: 500\r\n\r\n{"0":{"json":null}}',
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  // No response finishes, so no request line either; an error would come at once.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(lines.filter((l) => l.msg === 'query lane failed')).toEqual([]);
  const after = await fetch(`${base}/healthz`);
  expect(after.status).toBe(200);
});

test("a request's slow-query log line carries its request id, on both routes", async () => {
  const logger = pino({ level: 'info' }, sink);
  // Every statement counts as slow here.
  const db = createServiceDb(
    loadConfig({ DATABASE_URL: testDb.urls.app, SLOW_QUERY_MS: '0' }),
    logger,
  );
  const slowServer = createServer(createRequestListener({ db, logger })).listen(0, '127.0.0.1');
  await new Promise((resolve) => slowServer.once('listening', resolve));
  const slowBase = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}`;
  try {
    for (const [path, init, id] of [
      [query, {}, 'slow-lane-1'],
      [
        '/trpc/auth.login?batch=1',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ 0: { json: { email: 'slow@example.com', password: 'x' } } }),
        },
        'slow-express-1',
      ],
    ] as const) {
      const res = await fetch(`${slowBase}${path}`, {
        ...init,
        headers: { ...('headers' in init ? init.headers : {}), 'x-request-id': id },
      });
      await res.arrayBuffer();
      await expect
        .poll(() => lines.filter((l) => l.msg === 'slow query' && l.requestId === id).length)
        .toBeGreaterThanOrEqual(1);
    }
  } finally {
    await new Promise((resolve) => slowServer.close(resolve));
    await db.destroy();
  }
});
