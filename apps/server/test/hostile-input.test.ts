// Property-based hostile input against every procedure, over real HTTP with raw
// fetch (so malformed payloads are possible): every answer is a result or a 4xx
// tRPC error, never a 500; a refused request leaves the database unchanged; the
// strings the API accepts are stored exactly as sent.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appRouter } from '@keel/api';
import { keelErrorCode } from '@keel/client';
import { createTestDatabase } from '@keel/platform/testing';
import fc from 'fast-check';
import { sql } from 'kysely';
import superjson from 'superjson';
import { afterAll, describe, expect, test } from 'vitest';
import { startApp } from './harness';

const testDb = await createTestDatabase();
const db = testDb.db;
const app = await startApp(db, { authRateLimitPerMinute: 100_000 });

// ---------------------------------------------------------------------------
// Fixtures: an admin, a customer, products to order, products to spend, orders.

const password = 'hostile-input-password';
const anonymousClient = app.client();
const customer = await anonymousClient.auth.register.mutate({
  email: 'customer@example.com',
  password,
  displayName: 'Customer',
});
const admin = await anonymousClient.auth.register.mutate({
  email: 'admin@example.com',
  password,
  displayName: 'Admin',
});
await db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.user.id).execute();
const adminClient = app.client(admin.token);
const customerClient = app.client(customer.token);

const orderable = await Promise.all(
  [1, 2, 3].map((i) =>
    adminClient.products.create.mutate({
      sku: `ORDER-${i}`,
      name: `Orderable ${i}`,
      priceCents: 100 * i,
      stockQuantity: 1_000_000_000,
    }),
  ),
);
// products.update and products.delete aim at these, so the orderable ones stay orderable.
const spare = await Promise.all(
  [1, 2, 3, 4, 5].map((i) =>
    adminClient.products.create.mutate({ sku: `SPARE-${i}`, name: `Spare ${i}`, priceCents: i }),
  ),
);
const orders = await Promise.all(
  orderable.map((product) =>
    customerClient.orders.place.mutate({
      idempotencyKey: randomUUID(),
      items: [{ productId: product.id, quantity: 1 }],
    }),
  ),
);
const realCursors = [
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
function record(path: string, outcome: string): void {
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
async function served(url: string, init: RequestInit = {}): Promise<string[]> {
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

async function stillServing(): Promise<void> {
  expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  // The database pool still answers: no connection was leaked or left in a transaction.
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
}

/** Everything a refused request must not change (last_used_at is touched by reads). */
async function fingerprint(): Promise<Record<string, string>> {
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

type Caller = 'anonymous' | 'forged' | 'customer' | 'admin';
/** Mostly signed in (as a customer and as an admin), so the input reaches the procedure. */
const caller = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Caller>('anonymous') },
  { weight: 1, arbitrary: fc.constant<Caller>('forged') },
  { weight: 3, arbitrary: fc.constant<Caller>('customer') },
  { weight: 3, arbitrary: fc.constant<Caller>('admin') },
);

/** A user and a session written directly (no scrypt), for calls that use them up. */
async function throwawayToken(role: 'customer' | 'admin'): Promise<string> {
  const user = await db
    .insertInto('users')
    .values({
      email: `throwaway-${randomUUID()}@example.com`,
      display_name: 'Throwaway',
      password_hash: 'not-a-real-hash',
      role,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const token = randomBytes(32).toString('base64url');
  await db
    .insertInto('sessions')
    .values({
      user_id: user.id,
      token_hash: createHash('sha256').update(token).digest(),
      expires_at: new Date(Date.now() + 3_600_000),
    })
    .execute();
  return token;
}

async function tokenOf(caller: Caller, consumesCaller: boolean): Promise<string | undefined> {
  if (caller === 'anonymous') return undefined;
  if (caller === 'forged') return randomBytes(32).toString('base64url');
  if (consumesCaller) return throwawayToken(caller);
  return caller === 'admin' ? admin.token : customer.token;
}

function headersOf(token: string | undefined, extra: Record<string, string> = {}) {
  return { ...extra, ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

// ---------------------------------------------------------------------------
// Hostile values.

const sqlInjections = [
  "'; drop table users; --",
  "1' or '1'='1",
  "' or 1=1 --",
  "admin'--",
  '"; select pg_sleep(10); --',
  "'); delete from sessions; --",
  "%' or name like '%",
  '$$; truncate products cascade; $$',
  "\\'; update users set role = 'admin'; --",
  '1; drop table orders',
  "00000000-0000-0000-0000-000000000000' or '1'='1",
];
const sqlInjection = fc.constantFrom(...sqlInjections);
const withNul = fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}\u0000${b}`);
const loneSurrogate = fc
  .tuple(fc.string(), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string())
  .map(([a, unit, b]) => `${a}${String.fromCharCode(unit)}${b}`);
const unicode = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'grapheme-composite' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
);
/** 10 000 – 50 000 characters; multi-byte ones may exceed the 100 KiB body limit (413). */
const huge = fc
  .tuple(
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 3 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }),
    ),
    fc.integer({ min: 10_000, max: 50_000 }),
  )
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
const oddNumber = fc.oneof(
  fc.constantFrom(
    1e308,
    -1e308,
    -1,
    0,
    -0,
    0.5,
    5e-324,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
  ),
  fc.double(),
  fc.integer(),
);
// Numbers JSON.stringify cannot write (1e400 parses to Infinity): spliced into the text.
const rawMarker = '@@raw@@';
const rawNumber = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '1e-400',
    '-0',
    '123456789012345678901234567890',
    '9007199254740993',
  )
  .map((raw) => `${rawMarker}${raw}${rawMarker}`);
const rawNumberPattern = new RegExp(`"${rawMarker}([^"]*)${rawMarker}"`, 'g');

function nest(depth: number, kind: 'object' | 'array' | 'mixed', key: string, leaf: unknown) {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i += 1) {
    const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    value = asArray ? [value] : { [key]: value };
  }
  return value;
}
const deeplyNested = fc
  .tuple(
    fc.integer({ min: 50, max: 200 }),
    fc.constantFrom<'object' | 'array' | 'mixed'>('object', 'array', 'mixed'),
    fc.constantFrom('a', 'json', 'id', 'items', 'cursor', '__proto__'),
    fc.jsonValue({ maxDepth: 1 }),
  )
  .map(([depth, kind, key, leaf]) => nest(depth, kind, key, leaf));

const base64url = (text: string) => Buffer.from(text).toString('base64url');
const sortNames = [
  'products.newest',
  'products.price_asc',
  'products.price_desc',
  'products.name',
  'orders.newest',
  'users.newest',
];
const cursorValue = fc.oneof(
  fc.string(),
  unicode,
  withNul,
  loneSurrogate,
  sqlInjection,
  fc.uuid(),
  fc.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d)?$/),
  fc
    .date({ noInvalidDate: true })
    .map((d) => d.toISOString().replace('T', ' ').replace('Z', '+00')),
  fc.stringMatching(/^-?\d{1,19}$/),
  fc.string({ minLength: 990, maxLength: 1010 }),
);
const forgedCursor = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
  fc.jsonValue({ maxDepth: 3 }).map((value) => base64url(JSON.stringify(value))),
  fc
    .record({
      s: fc.oneof(fc.constantFrom(...sortNames), fc.string()),
      v: fc.array(cursorValue, { maxLength: 4 }),
    })
    .map((cursor) => base64url(JSON.stringify(cursor))),
  fc.string({ maxLength: 2100 }),
  fc.constantFrom(...realCursors),
);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: sqlInjection },
  { weight: 2, arbitrary: withNul },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 3, arbitrary: unicode },
  { weight: 1, arbitrary: huge },
  { weight: 3, arbitrary: oddNumber },
  { weight: 1, arbitrary: rawNumber },
  { weight: 1, arbitrary: deeplyNested },
  { weight: 2, arbitrary: forgedCursor },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, '', ' ', [], {}) },
);

/** superjson `meta` that lies: unknown transformations, paths that do not exist, __proto__. */
const metaPath = fc.oneof(
  fc.constantFrom('email', 'id', 'items.0.quantity', 'expectedUpdatedAt', '__proto__', 'a.b.c', ''),
  fc.string(),
);
const transformation = fc.oneof(
  fc.constantFrom('Date', 'bigint', 'undefined', 'set', 'map', 'regexp', 'number', 'Error', 'URL'),
  fc.tuple(fc.constantFrom('class', 'symbol', 'custom', 'typed-array'), fc.string()),
  fc.anything({ maxDepth: 2 }),
);
const hostileMeta = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.record(
    {
      values: fc.oneof(fc.dictionary(metaPath, transformation, { maxKeys: 3 }), transformation),
      referentialEqualities: fc.oneof(
        fc.dictionary(metaPath, fc.array(metaPath, { maxLength: 2 }), { maxKeys: 2 }),
        fc.anything({ maxDepth: 2 }),
      ),
      v: fc.anything({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
);

/** Values superjson can carry (BigInt, Map, Set, typed arrays, holes, null prototypes). */
const richValue = fc.anything({
  maxDepth: 3,
  withBigInt: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
});

// ---------------------------------------------------------------------------
// Every procedure, with plausible values for its input keys.

const productIds = [...orderable, ...spare].map((p) => p.id);
const knownIds = [...productIds, ...orders.map((o) => o.id), admin.user.id, customer.user.id];
const anId = fc.oneof(
  fc.uuid(),
  fc.constantFrom(...knownIds),
  fc.constantFrom(...knownIds).map((id) => id.toUpperCase()),
);
const limit = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: -5, max: 200 }));
const cursor = fc.oneof(fc.constantFrom(...realCursors), forgedCursor);
const sku = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{2,39}$/);
const simpleEmail = fc
  .stringMatching(/^[a-z0-9]{1,20}$/)
  .map((local) => `${local}-${randomUUID().slice(0, 4)}@example.com`);
const statuses = ['pending', 'paid', 'shipped', 'delivered', 'cancelled'];
const status = fc.oneof(fc.constantFrom(...statuses), fc.constantFrom('PAID', 'refunded', ''));
const money = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.maxSafeNat());
const orderLine = fc.record(
  {
    productId: fc.oneof(fc.constantFrom(...orderable.map((p) => p.id)), anId, hostile),
    quantity: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: -1, max: 10_001 })),
  },
  { requiredKeys: [] },
);
const productFields = {
  sku: fc.oneof(sku, fc.constantFrom('ORDER-1', 'SPARE-1')),
  name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  description: fc.string({ unit: 'grapheme', maxLength: 100 }),
  priceCents: money,
  currency: fc.oneof(fc.constantFrom('USD', 'EUR'), fc.stringMatching(/^[A-Z]{3}$/)),
  stockQuantity: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 31 })),
  isActive: fc.boolean(),
};

interface Spec {
  path: string;
  type: 'query' | 'mutation';
  /** Plausible values for each input key; empty for procedures without input. */
  fields: Record<string, fc.Arbitrary<unknown>>;
  /** The call signs out or deletes its caller: a fresh user per run. */
  consumesCaller?: boolean;
  /** A plausible input costs an scrypt hash (~100 ms). */
  hashesPassword?: boolean;
  numRuns: number;
}

const specs: Spec[] = [
  {
    path: 'auth.register',
    type: 'mutation',
    fields: {
      email: fc.oneof(simpleEmail, fc.emailAddress(), fc.constant('customer@example.com')),
      password: fc.oneof(fc.string({ minLength: 12, maxLength: 40 }), fc.constant(password)),
      displayName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    },
    hashesPassword: true,
    numRuns: 100,
  },
  {
    path: 'auth.login',
    type: 'mutation',
    fields: {
      email: fc.oneof(fc.constantFrom('customer@example.com', 'CUSTOMER@example.com'), simpleEmail),
      password: fc.oneof(fc.constant(password), fc.string({ minLength: 1, maxLength: 40 })),
    },
    hashesPassword: true,
    numRuns: 100,
  },
  { path: 'auth.logout', type: 'mutation', fields: {}, consumesCaller: true, numRuns: 100 },
  { path: 'auth.me', type: 'query', fields: {}, numRuns: 100 },
  {
    path: 'products.list',
    type: 'query',
    fields: {
      limit,
      cursor,
      sort: fc.oneof(
        fc.constantFrom('newest', 'price_asc', 'price_desc', 'name'),
        fc.constantFrom('NEWEST', 'name desc', 'name; drop table products'),
      ),
      search: fc.oneof(fc.string(), unicode, fc.constantFrom('%', '_', '\\', '%\\_')),
      minPriceCents: money,
      maxPriceCents: money,
      includeInactive: fc.boolean(),
    },
    numRuns: 200,
  },
  { path: 'products.byId', type: 'query', fields: { id: anId }, numRuns: 150 },
  {
    path: 'products.bySku',
    type: 'query',
    fields: { sku: fc.oneof(sku, fc.constantFrom('ORDER-1', 'order-1', 'SPARE-2')) },
    numRuns: 150,
  },
  { path: 'products.create', type: 'mutation', fields: productFields, numRuns: 150 },
  {
    path: 'products.update',
    type: 'mutation',
    fields: {
      ...productFields,
      id: fc.oneof(fc.constantFrom(...spare.map((p) => p.id)), fc.uuid()),
      expectedUpdatedAt: fc.date({ noInvalidDate: true }),
    },
    numRuns: 150,
  },
  {
    path: 'products.delete',
    type: 'mutation',
    fields: { id: fc.oneof(fc.constantFrom(...spare.map((p) => p.id)), fc.uuid()) },
    numRuns: 150,
  },
  {
    path: 'orders.place',
    type: 'mutation',
    fields: {
      idempotencyKey: fc.oneof(fc.uuid(), fc.constantFrom(...orders.map((o) => o.idempotencyKey))),
      items: fc.oneof(
        fc.array(orderLine, { minLength: 1, maxLength: 3 }),
        fc.array(orderLine, { maxLength: 60 }),
      ),
    },
    numRuns: 150,
  },
  {
    path: 'orders.list',
    type: 'query',
    fields: {
      limit,
      cursor,
      status,
      userId: anId,
      allUsers: fc.boolean(),
    },
    numRuns: 150,
  },
  { path: 'orders.byId', type: 'query', fields: { id: anId }, numRuns: 150 },
  { path: 'orders.cancel', type: 'mutation', fields: { id: anId }, numRuns: 150 },
  {
    path: 'orders.updateStatus',
    type: 'mutation',
    fields: { id: anId, status },
    numRuns: 150,
  },
  { path: 'users.list', type: 'query', fields: { limit, cursor }, numRuns: 150 },
  {
    path: 'users.updateMe',
    type: 'mutation',
    fields: {
      displayName: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      // Mostly no new password: each one costs an scrypt hash.
      password: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.string({ minLength: 12, maxLength: 40 }) },
      ),
      currentPassword: fc.string({ maxLength: 40 }),
    },
    hashesPassword: true,
    numRuns: 150,
  },
  {
    path: 'users.deleteMe',
    type: 'mutation',
    fields: { password: fc.string({ maxLength: 40 }) },
    consumesCaller: true,
    numRuns: 100,
  },
  { path: 'health.check', type: 'query', fields: {}, numRuns: 100 },
];

/** Right keys with plausible or hostile values (any may be missing), plus stray keys. */
function shapedInput(
  fields: Record<string, fc.Arbitrary<unknown>>,
  plausibleWeight: number,
): fc.Arbitrary<unknown> {
  const record = fc.record(
    Object.fromEntries(
      Object.entries(fields).map(([key, plausible]) => [
        key,
        fc.oneof(
          { weight: plausibleWeight, arbitrary: plausible },
          { weight: 2, arbitrary: hostile },
        ),
      ]),
    ),
    { requiredKeys: [] },
  );
  return fc
    .tuple(record, fc.option(fc.dictionary(fc.string(), hostile, { maxKeys: 2 }), { freq: 4 }))
    .map(([input, stray]) => ({ ...stray, ...input }));
}

/**
 * A procedure's input: all keys plausible, one key poisoned, any mix, or no
 * shape at all. Procedures that hash a password (scrypt) get fewer fully
 * plausible inputs, to keep the run short.
 */
function inputOf(spec: Pick<Spec, 'fields' | 'hashesPassword'>): fc.Arbitrary<unknown> {
  const junk = [
    { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: hostile },
  ];
  const keys = Object.keys(spec.fields);
  if (keys.length === 0) {
    return fc.oneof(...junk, { weight: 1, arbitrary: fc.constantFrom(undefined, {}) });
  }
  const plausible = fc.record(spec.fields);
  const onePoisoned = fc
    .tuple(plausible, fc.constantFrom(...keys), hostile)
    .map(([input, key, value]) => ({ ...input, [key]: value }));
  return fc.oneof(
    { weight: spec.hashesPassword ? 1 : 3, arbitrary: plausible },
    { weight: 3, arbitrary: onePoisoned },
    { weight: 3, arbitrary: shapedInput(spec.fields, spec.hashesPassword ? 1 : 3) },
    ...junk,
  );
}

/** superjson's own envelope; superjson refuses to write `__proto__` keys, so those go bare. */
function superjsonEnvelope(value: unknown): unknown {
  try {
    return superjson.serialize(value);
  } catch {
    const plain = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? String(v) : v));
    return { json: plain === undefined ? null : JSON.parse(plain) };
  }
}

/** What goes on the wire: usually `{ json }`, sometimes superjson, bare, or with a lying meta. */
function wireOf(spec: Pick<Spec, 'fields' | 'hashesPassword'>): fc.Arbitrary<unknown> {
  const input = inputOf(spec);
  return fc.oneof(
    { weight: 6, arbitrary: input.map((json) => ({ json })) },
    { weight: 2, arbitrary: input.map(superjsonEnvelope) },
    { weight: 1, arbitrary: richValue.map(superjsonEnvelope) },
    { weight: 1, arbitrary: input },
    {
      weight: 1,
      arbitrary: fc.tuple(input, hostileMeta).map(([json, meta]) => ({ json, meta })),
    },
  );
}

/** JSON text of a wire value, with the raw numbers spliced in; undefined sends no input. */
function wireText(wire: unknown): string | undefined {
  const text = JSON.stringify(wire);
  return text === undefined ? undefined : text.replace(rawNumberPattern, '$1');
}

function requestOf(
  spec: Pick<Spec, 'path' | 'type'>,
  token: string | undefined,
  text: string | undefined,
): { url: string; init: RequestInit } {
  if (spec.type === 'query') {
    const query = text === undefined ? '' : `?input=${encodeURIComponent(text)}`;
    return { url: `${app.trpcUrl}/${spec.path}${query}`, init: { headers: headersOf(token) } };
  }
  return {
    url: `${app.trpcUrl}/${spec.path}`,
    init: {
      method: 'POST',
      headers: headersOf(token, { 'content-type': 'application/json' }),
      body: text ?? '',
    },
  };
}

// ---------------------------------------------------------------------------

test('the properties cover every procedure of the appRouter exactly once', () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  expect(specs.map((s) => s.path).sort()).toEqual(procedures);
  // At run time the record is flat ('auth.register' → procedure).
  const types = Object.fromEntries(
    Object.entries(appRouter._def.procedures as object).map(([path, procedure]) => [
      path,
      (procedure as { _def: { type: string } })._def.type,
    ]),
  );
  for (const spec of specs) expect(types[spec.path], spec.path).toBe(spec.type);
});

describe.each(specs)('$path under hostile input', (spec) => {
  test(`${spec.numRuns} runs: a result or a 4xx, never a 500; a refused ${spec.type} changes nothing`, {
    timeout: 120_000,
  }, async () => {
    const queryBefore = spec.type === 'query' ? await fingerprint() : null;
    await fc.assert(
      fc.asyncProperty(caller, wireOf(spec), async (who, wire) => {
        const token = await tokenOf(who, spec.consumesCaller ?? false);
        const before = spec.type === 'mutation' ? await fingerprint() : null;
        const { url, init } = requestOf(spec, token, wireText(wire));
        const [outcome = 'NO_ANSWER'] = await served(url, init);
        record(spec.path, outcome);
        if (before && outcome !== 'OK') expect(await fingerprint()).toEqual(before);
      }),
      { numRuns: spec.numRuns },
    );
    // Queries change nothing, whatever they are sent.
    if (queryBefore) expect(await fingerprint()).toEqual(queryBefore);
    await stillServing();
  });
});

// ---------------------------------------------------------------------------
// Unknown procedures and hostile batches.

const realPaths = new Set(specs.map((s) => s.path));
const unknownName = fc
  .oneof(
    fc.string({ minLength: 1 }),
    fc.string({ unit: 'binary', minLength: 1 }),
    fc.constantFrom(
      'auth',
      'auth.',
      '.auth.me',
      'auth.me.',
      'auth..me',
      'AUTH.ME',
      'auth.me ',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'auth.__proto__',
      'products.list.__proto__',
      '_def',
      'createCaller',
      'users.deleteMe.constructor',
    ),
    fc.tuple(fc.constantFrom(...realPaths), fc.string({ minLength: 1 })).map(([p, s]) => p + s),
  )
  // '.' and '..' are path segments the URL parser resolves away, not names.
  .filter((name) => !realPaths.has(name) && !/^\.+$/.test(name));

describe('unknown procedures', () => {
  test('200 runs: any unknown name, over GET or POST, is NOT_FOUND (404), never a 500', {
    timeout: 60_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(unknownName, fc.boolean(), async (name, viaPost) => {
        const url = `${app.trpcUrl}/${encodeURIComponent(name)}`;
        const init: RequestInit = viaPost
          ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }
          : {};
        const outcomes = await served(url, init);
        record('(unknown procedure)', outcomes[0] ?? 'NO_ANSWER');
        expect(outcomes).toEqual(['NOT_FOUND']);
      }),
      { numRuns: 200 },
    );
    await stillServing();
  });
});

describe('hostile batches', () => {
  // Not the calls that use up their caller, nor (for time) those that hash passwords.
  const batchable = specs.filter((s) => !s.consumesCaller && !s.hashesPassword);
  // Plain data (path and wire), so a counterexample prints readably.
  const callOf = (procedures: Spec[]) =>
    fc
      .constantFrom(...procedures)
      .chain((spec) => wireOf(spec).map((wire) => ({ path: spec.path, wire })));
  const unknownCall = fc
    // A comma would split the name into more calls.
    .tuple(
      unknownName.filter((name) => !name.includes(',')),
      hostile,
    )
    .map(([path, json]) => ({ path, wire: { json } }));
  // Mostly one type per batch over its own method; sometimes mixed, or the wrong method.
  const batch = fc
    .constantFrom('query', 'mutation')
    .chain((type) =>
      fc.tuple(
        fc.array(
          fc.oneof(
            { weight: 8, arbitrary: callOf(batchable.filter((s) => s.type === type)) },
            { weight: 1, arbitrary: callOf(batchable) },
            { weight: 1, arbitrary: unknownCall },
          ),
          { minLength: 1, maxLength: 4 },
        ),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(type === 'query' ? 'GET' : 'POST') },
          { weight: 1, arbitrary: fc.constantFrom('GET', 'POST') },
        ),
      ),
    );

  test('120 runs: every call of a batch is a result or a 4xx; an all-refused batch changes nothing', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(caller, batch, async (who, [calls, method]) => {
        const token = await tokenOf(who, false);
        const paths = calls.map((c) => encodeURIComponent(c.path)).join(',');
        const inputs = wireText(Object.fromEntries(calls.map((c, i) => [i, c.wire]))) ?? '{}';
        const before = await fingerprint();
        const outcomes =
          method === 'GET'
            ? await served(`${app.trpcUrl}/${paths}?batch=1&input=${encodeURIComponent(inputs)}`, {
                headers: headersOf(token),
              })
            : await served(`${app.trpcUrl}/${paths}?batch=1`, {
                method: 'POST',
                headers: headersOf(token, { 'content-type': 'application/json' }),
                body: inputs,
              });
        if (outcomes[0] === 'REQUEST_HEADER_FIELDS_TOO_LARGE') return;
        if (outcomes.length !== calls.length) {
          // Refused as a whole (mixed queries and mutations, wrong method): one error.
          expect(outcomes).toHaveLength(1);
          expect(outcomes[0]).not.toBe('OK');
        }
        calls.forEach((c, i) => {
          const outcome = outcomes.length === calls.length ? outcomes[i] : outcomes[0];
          record(realPaths.has(c.path) ? c.path : '(unknown procedure)', outcome ?? '');
        });
        if (outcomes.every((o) => o !== 'OK')) expect(await fingerprint()).toEqual(before);
      }),
      { numRuns: 120 },
    );
    await stillServing();
  });
});

// ---------------------------------------------------------------------------
// A fixed list of malformed requests, against every procedure.

interface Malformed {
  name: string;
  /** Where the payload goes: the body (mutations) or `?input=` (queries), unless fixed here. */
  payload?: string | Uint8Array;
  method?: string;
  headers?: Record<string, string>;
  /** Builds the whole request instead. */
  build?: (spec: Spec, token: string | undefined) => { url: string; init: RequestInit };
  /** The expected outcome of the (first) call, given the procedure; or the ones allowed. */
  expected: (spec: Spec) => string | string[];
}

/** Whether the procedure reads its input (no-input procedures never parse the payload). */
const readsInput = (spec: Spec) => Object.keys(spec.fields).length > 0;
/** Whether a missing input is valid (the list procedures default every field). */
const inputOptional = (spec: Spec) =>
  ['products.list', 'orders.list', 'users.list'].includes(spec.path);
const badInput = (spec: Spec) => (readsInput(spec) ? 'BAD_REQUEST' : 'OK');
const noInput = (spec: Spec) => (readsInput(spec) && !inputOptional(spec) ? 'BAD_REQUEST' : 'OK');
/**
 * The calls of a batch run concurrently: when they use up their caller (logout,
 * deleteMe), any of them, the first included, may find the session already gone.
 */
const concurrently =
  (expected: (spec: Spec) => string) =>
  (spec: Spec): string | string[] =>
    spec.consumesCaller ? [expected(spec), 'UNAUTHORIZED'] : expected(spec);
/** `{"json":{key:{key:…1}}}`, nested under the procedure's own first key so it is not stripped. */
const deepJson = (key: string, depth: number) =>
  `{"json":${`{"${key}":`.repeat(depth)}1${'}'.repeat(depth)}}`;

const malformed: Malformed[] = [
  { name: 'invalid JSON', payload: '{"json": {', expected: badInput },
  {
    name: 'truncated JSON',
    payload: '{"json":{"email":"a@example.com","id":"0000',
    expected: badInput,
  },
  { name: 'JSON null', payload: 'null', expected: badInput },
  { name: 'JSON of a number', payload: '42', expected: noInput },
  { name: 'JSON of a string', payload: '"json"', expected: noInput },
  { name: 'JSON of an array', payload: '[{"json":{}}]', expected: noInput },
  { name: 'an object without json', payload: '{"input":{"id":"x"}}', expected: noInput },
  { name: 'an empty body', payload: '', expected: noInput },
  { name: 'only whitespace', payload: ' \n\t ', expected: badInput },
  {
    name: 'a raw NUL inside a JSON string',
    payload: '{"json":{"id":"a\u0000b"}}',
    expected: badInput,
  },
  {
    name: 'numbers beyond a double',
    payload: '{"json":{"limit":1e400,"priceCents":-1e400,"id":1e400,"email":1e-400}}',
    expected: badInput,
  },
  {
    // As deep as fits: ~1 000 levels in a GET URL (Node's 16 KiB limit, URL-encoded),
    // ~5 000–20 000 in a POST body (under 100 KiB).
    name: 'nested as deep as the URL or body limit allows',
    build: (spec, token) => {
      const key = Object.keys(spec.fields)[0] ?? 'a';
      const depth =
        spec.type === 'query'
          ? Math.floor(12_000 / (key.length + 15)) // %7B%22 key %22%3A … %7D
          : Math.floor(90_000 / (key.length + 5)); // {" key ": … }
      return requestOf(spec, token, deepJson(key, depth));
    },
    expected: badInput,
  },
  {
    name: '__proto__ keys',
    payload:
      '{"json":{"__proto__":{"role":"admin","id":"x"}},"meta":{"values":{"__proto__":"Date"}}}',
    expected: badInput,
  },
  {
    name: 'a superjson meta naming an unknown class',
    payload: '{"json":{"id":"x"},"meta":{"values":{"id":["class","Nope"]}}}',
    expected: badInput,
  },
  {
    name: 'bytes that are not UTF-8',
    payload: new Uint8Array([0x7b, 0x22, 0x6a, 0xff, 0xfe, 0xc3, 0x28, 0x7d]),
    headers: { 'content-type': 'application/json' },
    method: 'POST',
    expected: (spec) => (spec.type === 'query' ? 'METHOD_NOT_SUPPORTED' : badInput(spec)),
  },
  {
    name: 'content-type text/plain',
    payload: '{"json":{}}',
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    expected: () => 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'content-type application/x-www-form-urlencoded',
    payload: 'json=%7B%7D',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    expected: () => 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'no content-type',
    payload: new TextEncoder().encode('{"json":{}}'),
    method: 'POST',
    expected: () => 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart/form-data without a boundary',
    payload: 'garbage',
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data' },
    expected: (spec) => (spec.type === 'query' ? 'METHOD_NOT_SUPPORTED' : badInput(spec)),
  },
  {
    name: 'application/octet-stream',
    payload: 'garbage',
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    expected: (spec) => (spec.type === 'query' ? 'METHOD_NOT_SUPPORTED' : badInput(spec)),
  },
  {
    name: 'a body over 100 KiB',
    payload: JSON.stringify({ json: { id: 'x'.repeat(120_000) } }),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    expected: (spec) =>
      spec.type === 'query'
        ? 'METHOD_NOT_SUPPORTED'
        : readsInput(spec)
          ? 'PAYLOAD_TOO_LARGE'
          : 'OK',
  },
  {
    name: 'the wrong method (GET for a mutation, POST for a query)',
    build: (spec, token) =>
      spec.type === 'query'
        ? requestOf({ path: spec.path, type: 'mutation' }, token, '{"json":{}}')
        : requestOf({ path: spec.path, type: 'query' }, token, '{"json":{}}'),
    expected: () => 'METHOD_NOT_SUPPORTED',
  },
  {
    name: 'PUT',
    payload: '{"json":{}}',
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    expected: () => 'METHOD_NOT_SUPPORTED',
  },
  {
    // No body, so no content-type: tRPC checks that before the method.
    name: 'DELETE without a body',
    method: 'DELETE',
    expected: () => 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'DELETE with a JSON body',
    payload: '{"json":{}}',
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    expected: () => 'METHOD_NOT_SUPPORTED',
  },
  {
    name: 'a batch with mismatched indices',
    build: (spec, token) =>
      batchRequest(spec, token, 2, '{"5":{"json":{}},"x":{"json":{}},"-1":{"json":{}}}'),
    expected: concurrently(noInput),
  },
  {
    name: 'a batch path of 3 procedures with an input for 1',
    build: (spec, token) =>
      batchRequest(spec, token, 3, '{"0":{"json":{"id":"nope","limit":"nope"}}}'),
    expected: concurrently(badInput),
  },
  {
    name: 'a batch whose input is an array',
    build: (spec, token) => batchRequest(spec, token, 2, '[{"json":{}},{"json":{}}]'),
    expected: concurrently(badInput),
  },
  {
    name: 'a batch whose input is null',
    build: (spec, token) => batchRequest(spec, token, 2, 'null'),
    expected: concurrently(badInput),
  },
  {
    name: 'a batch over the cap of 20 calls',
    build: (spec, token) => batchRequest(spec, token, 21, '{}'),
    expected: () => 'BAD_REQUEST',
  },
  {
    name: 'a batch path without ?batch=1',
    build: (spec, token) => ({
      url: `${app.trpcUrl}/${spec.path},${spec.path}`,
      init: { headers: headersOf(token) },
    }),
    expected: () => 'NOT_FOUND',
  },
  {
    name: 'a batch mixing a query and a mutation',
    build: (spec, token) => ({
      url: `${app.trpcUrl}/${spec.path},${spec.type === 'query' ? 'auth.login' : 'health.check'}?batch=1`,
      init: {
        method: 'POST',
        headers: headersOf(token, { 'content-type': 'application/json' }),
        body: '{}',
      },
    }),
    expected: () => 'BAD_REQUEST',
  },
];

function batchRequest(
  spec: Spec,
  token: string | undefined,
  calls: number,
  inputs: string,
): { url: string; init: RequestInit } {
  const paths = Array.from({ length: calls }, () => spec.path).join(',');
  if (spec.type === 'query') {
    return {
      url: `${app.trpcUrl}/${paths}?batch=1&input=${encodeURIComponent(inputs)}`,
      init: { headers: headersOf(token) },
    };
  }
  return {
    url: `${app.trpcUrl}/${paths}?batch=1`,
    init: {
      method: 'POST',
      headers: headersOf(token, { 'content-type': 'application/json' }),
      body: inputs,
    },
  };
}

function malformedRequest(
  spec: Spec,
  token: string | undefined,
  bad: Malformed,
): { url: string; init: RequestInit } {
  if (bad.build) return bad.build(spec, token);
  if (bad.method) {
    return {
      url: `${app.trpcUrl}/${spec.path}`,
      init: {
        method: bad.method,
        headers: headersOf(token, bad.headers),
        ...(bad.payload !== undefined ? { body: bad.payload } : {}),
      },
    };
  }
  return requestOf(spec, token, typeof bad.payload === 'string' ? bad.payload : undefined);
}

describe.each(specs)('$path under malformed requests', (spec) => {
  test(`the ${malformed.length} malformed requests get their documented 4xx (or are served), never a 500`, async () => {
    const mismatches: string[] = [];
    const outcomes: string[] = [];
    // Signed in as admin, so the request reaches the input; a fresh user where
    // the call uses it up, made before the fingerprint so it is not a trace.
    const tokens: string[] = [];
    for (const _ of malformed) {
      tokens.push(spec.consumesCaller ? await throwawayToken('admin') : admin.token);
    }
    const before = await fingerprint();
    for (const [i, bad] of malformed.entries()) {
      const token = tokens[i] ?? admin.token;
      const { url, init } = malformedRequest(spec, token, bad);
      const [outcome = 'NO_ANSWER'] = await served(url, init);
      record(spec.path, outcome);
      outcomes.push(outcome);
      const expected = [bad.expected(spec)].flat();
      if (!expected.includes(outcome)) {
        mismatches.push(`${bad.name}: ${outcome}, expected ${expected.join(' or ')}`);
      }
    }
    expect(mismatches).toEqual([]);
    // Refused requests (and queries) left no trace.
    if (spec.type === 'query' || outcomes.every((o) => o !== 'OK')) {
      expect(await fingerprint()).toEqual(before);
    }
    await stillServing();
  });
});

// ---------------------------------------------------------------------------
// What the API accepts, it stores literally.

const hasNul = (s: string) => s.includes('\u0000');
/** Lengths count code points, in zod as in PostgreSQL's char_length. */
const length = (s: string) => [...s].length;
/** A lone UTF-16 surrogate cannot be encoded as UTF-8: it is not text. */
const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
const candidateText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'grapheme-composite', minLength: 150, maxLength: 220 }),
  },
  { weight: 1, arbitrary: sqlInjection },
  { weight: 1, arbitrary: fc.constantFrom('%', '_', '\\', '100%_off\\', "it's", '"quoted"') },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 1, arbitrary: withNul },
);
const padding = fc.string({
  unit: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u2028', '\u3000', '\ufeff'),
  maxLength: 3,
});

async function outcomeOf<T>(run: Promise<T>): Promise<{ ok: T } | { code: string | null }> {
  try {
    return { ok: await run };
  } catch (error) {
    return { code: keelErrorCode(error) };
  }
}

describe('accepted strings are stored exactly as sent', () => {
  let skuCounter = 0;

  test('100 runs: products.create stores name and description byte for byte, and search finds the name literally', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        candidateText,
        fc.oneof(candidateText, fc.constant('')),
        async (name, description) => {
          const valid =
            !hasNul(name) &&
            wellFormed(name) &&
            length(name) >= 1 &&
            length(name) <= 200 &&
            name === name.trim() &&
            !hasNul(description) &&
            wellFormed(description);
          skuCounter += 1;
          const sku = `LIT-${String(skuCounter).padStart(5, '0')}`;
          const before = await fingerprint();
          const result = await outcomeOf(
            adminClient.products.create.mutate({ sku, name, description, priceCents: 1 }),
          );
          record('products.create', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
          if (!('ok' in result)) {
            expect(result.code).toBe('BAD_REQUEST');
            expect(valid, JSON.stringify({ name, description })).toBe(false);
            expect(await fingerprint()).toEqual(before);
            return;
          }
          expect(valid, JSON.stringify({ name, description })).toBe(true);
          expect(result.ok.name).toBe(name);
          expect(result.ok.description).toBe(description);
          const read = await anonymousClient.products.byId.query({ id: result.ok.id });
          expect(read.name).toBe(name);
          expect(read.description).toBe(description);
          const row = await db
            .selectFrom('products')
            .select(['name', 'description'])
            .where('id', '=', result.ok.id)
            .executeTakeFirstOrThrow();
          expect(Buffer.from(row.name, 'utf8').equals(Buffer.from(name, 'utf8'))).toBe(true);
          expect(row.description).toBe(description);
          // A search needs 3 letters or digits (hardening.test.ts); with them,
          // the newest product is first and its own name, searched literally, finds it.
          if ((name.match(/[\p{L}\p{N}]/gu)?.length ?? 0) < 3) return;
          const found = await anonymousClient.products.list.query({ search: name, limit: 1 });
          expect(found.items.map((p) => p.id)).toEqual([result.ok.id]);
        },
      ),
      { numRuns: 100 },
    );
    await stillServing();
  });

  test('100 runs: users.updateMe stores displayName trimmed and NFC-normalised (as documented), refusing control and bidi characters', {
    timeout: 120_000,
  }, async () => {
    const { token, user } = await anonymousClient.auth.register.mutate({
      email: 'renamer@example.com',
      password,
      displayName: 'Renamer',
    });
    const renamer = app.client(token);
    await fc.assert(
      fc.asyncProperty(padding, candidateText, padding, async (lead, core, trail) => {
        const sent = `${lead}${core}${trail}`;
        const trimmed = sent.trim();
        const stored = trimmed.normalize('NFC');
        const valid =
          !hasNul(sent) &&
          wellFormed(sent) &&
          !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(trimmed) &&
          length(trimmed) >= 1 &&
          length(trimmed) <= 100;
        const before = await fingerprint();
        const result = await outcomeOf(renamer.users.updateMe.mutate({ displayName: sent }));
        record('users.updateMe', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
        if (!('ok' in result)) {
          expect(result.code).toBe('BAD_REQUEST');
          expect(valid, JSON.stringify(sent)).toBe(false);
          expect(await fingerprint()).toEqual(before);
          return;
        }
        expect(valid, JSON.stringify(sent)).toBe(true);
        expect(result.ok.displayName).toBe(stored);
        expect((await renamer.auth.me.query()).displayName).toBe(stored);
        const row = await db
          .selectFrom('users')
          .select('display_name')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow();
        expect(Buffer.from(row.display_name, 'utf8').equals(Buffer.from(stored, 'utf8'))).toBe(
          true,
        );
      }),
      { numRuns: 100 },
    );
    await stillServing();
  });

  test('15 runs: auth.register stores displayName trimmed and NFC-normalised, refusing control and bidi characters', {
    timeout: 120_000,
  }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(padding, candidateText, async (lead, core) => {
        n += 1;
        const sent = `${lead}${core}`;
        const trimmed = sent.trim();
        const stored = trimmed.normalize('NFC');
        const valid =
          !hasNul(sent) &&
          wellFormed(sent) &&
          !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(trimmed) &&
          length(trimmed) >= 1 &&
          length(trimmed) <= 100;
        const before = await fingerprint();
        const result = await outcomeOf(
          anonymousClient.auth.register.mutate({
            email: `literal-${n}-${randomUUID().slice(0, 8)}@example.com`,
            password,
            displayName: sent,
          }),
        );
        record('auth.register', 'ok' in result ? 'OK' : (result.code ?? 'NO_CODE'));
        if (!('ok' in result)) {
          expect(result.code).toBe('BAD_REQUEST');
          expect(valid, JSON.stringify(sent)).toBe(false);
          expect(await fingerprint()).toEqual(before);
          return;
        }
        expect(valid, JSON.stringify(sent)).toBe(true);
        expect(result.ok.user.displayName).toBe(stored);
        expect((await app.client(result.ok.token).auth.me.query()).displayName).toBe(stored);
      }),
      { numRuns: 15 },
    );
    await stillServing();
  });
});

describe('unpaired surrogates', () => {
  test('a password with an unpaired surrogate is refused, and cannot sign in as the account whose password has U+FFFD there', async () => {
    // Both reach scrypt as the same UTF-8 bytes (EF BF BD): two passwords, one hash.
    const email = `replacement-${randomUUID().slice(0, 8)}@example.com`;
    const real = 'twelve-chars-\ufffd';
    const impostor = 'twelve-chars-\ud800';
    const { token } = await anonymousClient.auth.register.mutate({
      email,
      password: real,
      displayName: 'Replacement',
    });
    expect(
      await outcomeOf(anonymousClient.auth.login.mutate({ email, password: impostor })),
    ).toEqual({ code: 'BAD_REQUEST' });
    const otherEmail = `surrogate-${randomUUID().slice(0, 8)}@example.com`;
    expect(
      await outcomeOf(
        anonymousClient.auth.register.mutate({
          email: otherEmail,
          password: impostor,
          displayName: 'Surrogate',
        }),
      ),
    ).toEqual({ code: 'BAD_REQUEST' });
    expect(
      await outcomeOf(
        app
          .client(token)
          .users.updateMe.mutate({ password: `${impostor}!`, currentPassword: real }),
      ),
    ).toEqual({ code: 'BAD_REQUEST' });
    // The real password still signs in.
    const signedIn = await anonymousClient.auth.login.mutate({ email, password: real });
    expect(signedIn.user.email).toBe(email);
  });
});
