// The REST face under /api, its OpenAPI 3.1 document and the /docs page,
// against the real server and database. Every answer a route gives in this
// file is checked against the document as it arrives: its status must be
// documented for that operation, a success must parse with the output
// schema, an error must carry the code that status stands for.
import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { appRouter } from '@keel/api';
import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, describe, expect, test } from 'vitest';
import { restOperations } from '../src/rest/operations';
import { inputSchemaOf, statusOf } from '../src/rest/routes';
import { errorCodes, errorSchema } from '../src/rest/schemas';
import { startApp } from './harness';

const testDb = await createTestDatabase();
const catalogue = Array.from({ length: 7 }, (_, i) => ({
  sku: `REST-${i}`,
  name: `Rest ${i}`,
  price_cents: 100 * (i + 1),
  stock_quantity: 10,
}));
await testDb.db.insertInto('products').values(catalogue).execute();
await testDb.db
  .insertInto('products')
  .values({ sku: 'REST-HIDDEN', name: 'Hidden', price_cents: 50, is_active: false })
  .execute();
const app = await startApp(testDb.db, { authRateLimitPerMinute: 1_000, bodyLimitBytes: 4_096 });
afterAll(async () => {
  await app.close();
  await testDb.destroy();
});

interface OpenApiOperation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: { 'application/json': { example: unknown } } };
  responses: Record<string, { $ref?: string; content?: Record<string, { example: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, { description: string }>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
}
const document = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenApiDocument;
const operationAt = (method: string, path: string) => {
  const operation = document.paths[path]?.[method];
  if (!operation) throw new Error(`not documented: ${method} ${path}`);
  return operation;
};

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the JSON it expects
  body: any;
}

/**
 * Calls a route by its documented form (`GET /api/products/{id}`) and checks
 * the answer against the document before returning it.
 */
async function call(
  route: `${'GET' | 'POST'} /api/${string}`,
  options: {
    path?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    token?: string;
  } = {},
): Promise<Answer> {
  const [method = '', template = ''] = route.split(' ');
  let url = template.replace(/\{(\w+)\}/g, (_, name: string) => options.path?.[name] ?? '');
  if (options.query) url += `?${new URLSearchParams(options.query)}`;
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body =
    options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}${url}`, { method, headers, body });
  const answer: Answer = { status: res.status, headers: res.headers, body: await res.json() };

  const operation = operationAt(method.toLowerCase(), template);
  const documented = operation.responses[answer.status];
  expect(
    documented,
    `${route} answered ${answer.status}, which it does not document`,
  ).toBeDefined();
  if (answer.status < 300) {
    const rest = restOperations.find((o) => o.operationId === operation.operationId);
    rest?.output.parse(answer.body);
  } else {
    const { error } = errorSchema.parse(answer.body);
    expect(statusOf(error.code), error.message).toBe(answer.status);
    expect(documented?.$ref).toBe(`#/components/responses/${error.code}`);
  }
  return answer;
}

async function signUp(name: string): Promise<string> {
  const { body } = await call('POST /api/auth/register', {
    body: {
      email: `${name}-${randomUUID().slice(0, 8)}@example.com`,
      password: 'lantern-harbour-42',
      displayName: name,
    },
  });
  return body.token;
}

describe('/openapi.json', () => {
  test('is a valid OpenAPI 3.1 document of the eleven REST operations', async () => {
    await SwaggerParser.validate(structuredClone(document) as never);
    expect(document.openapi).toBe('3.1.1');
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toHaveLength(11);
    expect(operations.sort()).toEqual(
      restOperations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort(),
    );
  });

  test('documents the bearer scheme, every error code with its HTTP status, and examples', () => {
    expect(document.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(Object.keys(document.components.responses).sort()).toEqual([...errorCodes].sort());
    for (const code of errorCodes) {
      expect(document.components.responses[code]?.description).toMatch(
        new RegExp(`^\`${code}\` \\(${statusOf(code)}\\): `),
      );
    }
    for (const rest of restOperations) {
      const operation = operationAt(rest.method, rest.path);
      expect(operation.security, rest.operationId).toEqual(
        rest.auth === 'required'
          ? [{ bearer: [] }]
          : rest.auth === 'optional'
            ? [{}, { bearer: [] }]
            : [],
      );
      expect(operation.responses[rest.status]?.content?.['application/json']?.example).toEqual(
        rest.example.response,
      );
      if (rest.example.body !== undefined) {
        expect(operation.requestBody?.content['application/json'].example).toEqual(
          rest.example.body,
        );
      }
    }
  });

  test('its examples are valid: requests for the procedures’ own input schemas, responses for the output schemas', () => {
    for (const rest of restOperations) {
      const input = inputSchemaOf(appRouter, rest.procedure);
      const example = { ...rest.example.path, ...rest.example.query, ...rest.example.body };
      if (input && (rest.example.query || rest.example.body)) input.parse(example);
      rest.output.parse(rest.example.response);
    }
  });

  test('describes inputs with the procedures’ schemas: products.list’s query parameters, orders.place’s body', () => {
    const list = operationAt('get', '/api/products');
    expect(list.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
      'query:limit',
      'query:cursor',
      'query:sort',
      'query:search',
      'query:minPriceCents',
      'query:maxPriceCents',
      'query:includeInactive',
    ]);
    expect(operationAt('post', '/api/orders/{id}/cancel').parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);
    expect(operationAt('post', '/api/orders/{id}/cancel').requestBody).toBeUndefined();
  });
});

describe('GET /api/products', () => {
  test('?limit=3 returns three items and a nextCursor that fetches the next page', async () => {
    const first = await call('GET /api/products', { query: { limit: '3', sort: 'price_asc' } });
    expect(first.status).toBe(200);
    expect(first.body.items.map((p: { sku: string }) => p.sku)).toEqual([
      'REST-0',
      'REST-1',
      'REST-2',
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call('GET /api/products', {
      query: { limit: '3', sort: 'price_asc', cursor: first.body.nextCursor },
    });
    expect(second.body.items.map((p: { sku: string }) => p.sku)).toEqual([
      'REST-3',
      'REST-4',
      'REST-5',
    ]);
    const last = await call('GET /api/products', {
      query: { limit: '3', sort: 'price_asc', cursor: second.body.nextCursor },
    });
    expect(last.body.items.map((p: { sku: string }) => p.sku)).toEqual(['REST-6']);
    expect(last.body.nextCursor).toBeNull();
  });

  test('query parameters are read as products.list’s schema types them: integers, booleans, enums', async () => {
    const { body } = await call('GET /api/products', {
      query: {
        sort: 'price_desc',
        minPriceCents: '300',
        maxPriceCents: '500',
        includeInactive: 'false',
      },
    });
    expect(body.items.map((p: { priceCents: number }) => p.priceCents)).toEqual([500, 400, 300]);
    const search = await call('GET /api/products', { query: { search: 'rest 4' } });
    expect(search.body.items.map((p: { sku: string }) => p.sku)).toEqual(['REST-4']);
    // Names that are not fields are dropped by the procedure, `__proto__` too.
    const odd = await fetch(
      `${app.url}/api/products?limit=2&__proto__=a&__proto__=b&constructor=c`,
    );
    expect(odd.status).toBe(200);
    expect(((await odd.json()) as { items: unknown[] }).items).toHaveLength(2);
  });

  test('answers what products.list and products.byId answer over tRPC, dates as ISO strings', async () => {
    const trpc = await app.client().products.list.query({ limit: 5, sort: 'name' });
    const rest = await call('GET /api/products', { query: { limit: '5', sort: 'name' } });
    expect(rest.body).toEqual(JSON.parse(JSON.stringify(trpc)));
    expect(rest.body.items[0].createdAt).toBe(trpc.items[0]?.createdAt.toISOString());

    const one = await call('GET /api/products/{id}', { path: { id: trpc.items[0]?.id ?? '' } });
    expect(one.body).toEqual(JSON.parse(JSON.stringify(trpc.items[0])));
  });
});

describe('a customer over REST', () => {
  test('registers, signs in, places an order with an idempotency key, lists, reads and cancels it', async () => {
    const email = `ada-${randomUUID().slice(0, 8)}@example.com`;
    const registered = await call('POST /api/auth/register', {
      body: { email, password: 'analytical-engine-1843', displayName: 'Ada' },
    });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toMatchObject({ email, displayName: 'Ada', role: 'customer' });

    const login = await call('POST /api/auth/login', {
      body: { email, password: 'analytical-engine-1843' },
    });
    expect(login.status).toBe(200);
    const token: string = login.body.token;
    expect((await call('GET /api/auth/me', { token })).body.id).toBe(registered.body.user.id);

    const products = await call('GET /api/products', { query: { sort: 'price_asc', limit: '2' } });
    const [mug, pan] = products.body.items as {
      id: string;
      priceCents: number;
      stockQuantity: number;
    }[];
    const order = {
      idempotencyKey: randomUUID(),
      items: [
        { productId: mug?.id, quantity: 2 },
        { productId: pan?.id, quantity: 1 },
      ],
    };
    const placed = await call('POST /api/orders', { token, body: order });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({
      status: 'pending',
      totalCents: (mug?.priceCents ?? 0) * 2 + (pan?.priceCents ?? 0),
    });
    // A retry with the same key returns the same order; nothing is placed twice.
    const retried = await call('POST /api/orders', { token, body: order });
    expect(retried.body.id).toBe(placed.body.id);
    const afterPlace = await call('GET /api/products/{id}', { path: { id: mug?.id ?? '' } });
    expect(afterPlace.body.stockQuantity).toBe((mug?.stockQuantity ?? 0) - 2);

    const list = await call('GET /api/orders', { token, query: { status: 'pending' } });
    expect(list.body.items.map((o: { id: string }) => o.id)).toEqual([placed.body.id]);
    expect(list.body.nextCursor).toBeNull();
    const read = await call('GET /api/orders/{id}', { token, path: { id: placed.body.id } });
    expect(read.body).toEqual(placed.body);

    const cancelled = await call('POST /api/orders/{id}/cancel', {
      token,
      path: { id: placed.body.id },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const afterCancel = await call('GET /api/products/{id}', { path: { id: mug?.id ?? '' } });
    expect(afterCancel.body.stockQuantity).toBe(mug?.stockQuantity);

    const out = await call('POST /api/auth/logout', { token });
    expect(out.body).toEqual({ signedOut: true });
    const dead = await call('GET /api/orders', { token });
    expect(dead.status).toBe(401);
    expect(dead.body.error.detail).toEqual({ reason: 'TOKEN_REJECTED' });
  });
});

describe('errors', () => {
  test('invalid input is 400 with a message and fieldErrors naming the field', async () => {
    const notANumber = await call('GET /api/products', { query: { limit: 'three' } });
    expect(notANumber.status).toBe(400);
    expect(notANumber.body.error.message).toMatch(/^invalid input: limit: /);
    expect(Object.keys(notANumber.body.error.fieldErrors)).toEqual(['limit']);

    const tooMany = await call('GET /api/products', { query: { limit: '500' } });
    expect(tooMany.body.error.message).toMatch(/limit: Too big/);

    const badId = await call('GET /api/products/{id}', { path: { id: 'not-a-uuid' } });
    expect(badId.status).toBe(400);
    expect(badId.body.error.fieldErrors).toEqual({ id: ['must be a UUID'] });

    const weak = await call('POST /api/auth/register', {
      body: { email: 'weak@example.com', password: 'short', displayName: 'Weak' },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.fieldErrors.password).toEqual(['must be at least 12 characters']);
  });

  test('a body that is not JSON is 400, one over the body limit 413', async () => {
    const broken = await call('POST /api/auth/login', { rawBody: '{"email":' });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toBe('the body is not valid JSON');
    const huge = await call('POST /api/auth/login', {
      body: { email: 'big@example.com', password: 'x'.repeat(5_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('GET /api/orders without a token is 401 and names the Bearer scheme', async () => {
    const res = await call('GET /api/orders');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body.error).toEqual({
      code: 'UNAUTHORIZED',
      message: 'sign in first: a valid bearer token is required',
    });
  });

  test('the procedures’ refusals keep their code and status: 401, 403, 404, 409 with its detail', async () => {
    const token = await signUp('refused');
    const wrongPassword = await call('POST /api/auth/login', {
      body: { email: 'nobody@example.com', password: 'not-the-password' },
    });
    expect(wrongPassword.body.error).toEqual({
      code: 'UNAUTHORIZED',
      message: 'email or password is wrong',
    });

    const admins = await call('GET /api/products', { token, query: { includeInactive: 'true' } });
    expect(admins.status).toBe(403);
    const others = await call('GET /api/orders', { token, query: { allUsers: 'true' } });
    expect(others.status).toBe(403);

    const missing = await call('GET /api/orders/{id}', { token, path: { id: randomUUID() } });
    expect(missing.status).toBe(404);
    const hidden = await testDb.db
      .selectFrom('products')
      .select('id')
      .where('sku', '=', 'REST-HIDDEN')
      .executeTakeFirstOrThrow();
    expect((await call('GET /api/products/{id}', { path: { id: hidden.id } })).status).toBe(404);

    const taken = await call('POST /api/auth/register', {
      body: { email: 'taken@example.com', password: 'lantern-harbour-42', displayName: 'One' },
    });
    expect(taken.status).toBe(201);
    const again = await call('POST /api/auth/register', {
      body: { email: 'taken@example.com', password: 'lantern-harbour-42', displayName: 'Two' },
    });
    expect(again.body.error).toEqual({ code: 'CONFLICT', message: 'email is already registered' });

    const [scarce] = (
      await call('GET /api/products', { query: { sort: 'price_desc', limit: '1' } })
    ).body.items;
    const greedy = await call('POST /api/orders', {
      token,
      body: { idempotencyKey: randomUUID(), items: [{ productId: scarce.id, quantity: 1_000 }] },
    });
    expect(greedy.status).toBe(409);
    expect(greedy.body.error.detail).toEqual({
      reason: 'OUT_OF_STOCK',
      productId: scarce.id,
      available: scarce.stockQuantity,
    });

    const placed = await call('POST /api/orders', {
      token,
      body: { idempotencyKey: randomUUID(), items: [{ productId: scarce.id, quantity: 1 }] },
    });
    await call('POST /api/orders/{id}/cancel', { token, path: { id: placed.body.id } });
    const twice = await call('POST /api/orders/{id}/cancel', {
      token,
      path: { id: placed.body.id },
    });
    expect(twice.body.error).toEqual({
      code: 'BAD_REQUEST',
      message: 'an order cannot move from cancelled to cancelled',
    });
  });

  test('an unknown route under /api is a JSON 404, never the storefront', async () => {
    const res = await fetch(`${app.url}/api/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route GET /api/nothing-here' },
    });
  });
});

test('REST reads and tRPC reads spend the same per-address budget', async () => {
  // 6 a minute: one may be saved up, the next comes 10 s later, long after
  // this test. Either way round, the second read of the address is refused.
  for (const first of ['trpc', 'rest'] as const) {
    const limited = await startApp(testDb.db, {
      readRateLimitPerMinute: 6,
      settings: { readRefusalDelayMs: 10 },
    });
    try {
      const trpc = () =>
        limited
          .client()
          .products.list.query({ limit: 1 })
          .then(
            () => 200,
            (e: unknown) => (keelErrorCode(e) === 'TOO_MANY_REQUESTS' ? 429 : 500),
          );
      const rest = async () => {
        const res = await fetch(`${limited.url}/api/products?limit=1`);
        await res.arrayBuffer();
        return res.status;
      };
      const [one, other] = first === 'trpc' ? [trpc, rest] : [rest, trpc];
      expect(await one(), first).toBe(200);
      expect(await other(), first).toBe(429);
    } finally {
      await limited.close();
    }
  }
  const limited = await startApp(testDb.db, {
    readRateLimitPerMinute: 6,
    settings: { readRefusalDelayMs: 10 },
  });
  try {
    await (await fetch(`${limited.url}/api/products?limit=1`)).arrayBuffer();
    const refused = await fetch(`${limited.url}/api/products?limit=1`);
    expect(refused.status).toBe(429);
    expect(errorSchema.parse(await refused.json()).error.code).toBe('TOO_MANY_REQUESTS');
  } finally {
    await limited.close();
  }
});

describe('/docs', () => {
  test('serves Redoc from this server, reading the local /openapi.json, under the server’s CSP', async () => {
    const res = await fetch(`${app.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).toContain('<redoc spec-url="/openapi.json"');
    const references = [...html.matchAll(/\b(?:src|href|spec-url)="([^"]*)"/g)].map((m) => m[1]);
    expect(references).toEqual([
      'data:,',
      '/openapi.json',
      '/openapi.json',
      '/docs/redoc.standalone.js',
    ]);
    expect(html).not.toMatch(/<script>|\son\w+=/);

    const bundle = await fetch(`${app.url}/docs/redoc.standalone.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(
      /^application\/javascript|^text\/javascript/,
    );
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
  });
});
