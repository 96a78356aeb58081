// The hostile values, every procedure's plausible inputs (specs), the
// requests built from them, and the property every procedure is held to;
// shared by the hostile-input-*.test.ts suites.
import { randomUUID } from 'node:crypto';
import { keelErrorCode } from '@keel/client';
import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, test } from 'vitest';
import {
  admin,
  app,
  caller,
  customer,
  fingerprint,
  headersOf,
  orderable,
  orders,
  password,
  realCursors,
  record,
  served,
  spare,
  stillServing,
  tokenOf,
} from './setup';

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

export const hostile: fc.Arbitrary<unknown> = fc.oneof(
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

const [firstOrderable] = orderable;
const [firstSpare, secondSpare] = spare;
if (!firstOrderable || !firstSpare || !secondSpare) throw new Error('too few fixture products');
/** The address with its local part in capitals: the same account, as email is citext. */
const shouted = (email: string) => email.replace(/^[^@]+/, (local) => local.toUpperCase());
const productIds = [...orderable, ...spare].map((p) => p.id);
const knownIds = [...productIds, ...orders.map((o) => o.id), admin.id, customer.id];
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
  sku: fc.oneof(sku, fc.constantFrom(firstOrderable.sku, firstSpare.sku)),
  name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  description: fc.string({ unit: 'grapheme', maxLength: 100 }),
  priceCents: money,
  currency: fc.oneof(fc.constantFrom('USD', 'EUR'), fc.stringMatching(/^[A-Z]{3}$/)),
  stockQuantity: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 31 })),
  isActive: fc.boolean(),
};

export interface Spec {
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

export const specs: Spec[] = [
  {
    path: 'auth.register',
    type: 'mutation',
    fields: {
      email: fc.oneof(simpleEmail, fc.emailAddress(), fc.constant(customer.email)),
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
      email: fc.oneof(fc.constantFrom(customer.email, shouted(customer.email)), simpleEmail),
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
    fields: {
      sku: fc.oneof(
        sku,
        fc.constantFrom(firstOrderable.sku, firstOrderable.sku.toLowerCase(), secondSpare.sku),
      ),
    },
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
    path: 'orders.pay',
    type: 'mutation',
    fields: {
      id: anId,
      card: fc.oneof(
        fc.record({
          number: fc.oneof(
            fc.constantFrom('4242 4242 4242 4242', '4000000000009995', '4242424242424241', ''),
            fc.string({ maxLength: 60 }),
          ),
          expiryMonth: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -3, max: 40 })),
          expiryYear: fc.oneof(fc.integer({ min: 2020, max: 2099 }), fc.integer()),
          cvc: fc.oneof(fc.constantFrom('123', '12', 'abcd'), fc.string({ maxLength: 8 })),
        }),
        fc.anything(),
      ),
    },
    numRuns: 150,
  },
  {
    path: 'orders.updateStatus',
    type: 'mutation',
    fields: { id: anId, status },
    numRuns: 150,
  },
  { path: 'webhooks.failedDeliveries', type: 'query', fields: { limit, cursor }, numRuns: 100 },
  { path: 'webhooks.retryDelivery', type: 'mutation', fields: { id: anId }, numRuns: 100 },
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
export function wireOf(spec: Pick<Spec, 'fields' | 'hashesPassword'>): fc.Arbitrary<unknown> {
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
export function wireText(wire: unknown): string | undefined {
  const text = JSON.stringify(wire);
  return text === undefined ? undefined : text.replace(rawNumberPattern, '$1');
}

export function requestOf(
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
// What the API accepts, it stores literally.

export const hasNul = (s: string) => s.includes('\u0000');
/** Lengths count code points, in zod as in PostgreSQL's char_length. */
export const length = (s: string) => [...s].length;
/** A lone UTF-16 surrogate cannot be encoded as UTF-8: it is not text. */
export const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
export const candidateText = fc.oneof(
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
export const padding = fc.string({
  unit: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u2028', '\u3000', '\ufeff'),
  maxLength: 3,
});

export async function outcomeOf<T>(run: Promise<T>): Promise<{ ok: T } | { code: string | null }> {
  try {
    return { ok: await run };
  } catch (error) {
    return { code: keelErrorCode(error) };
  }
}

// ---------------------------------------------------------------------------
// The property every procedure is held to, run by topic.

/** Which suite runs the hostile-input property of which routers' procedures. */
export const topics = {
  auth: ['auth', 'users'],
  products: ['products'],
  orders: ['orders', 'webhooks', 'health'],
} as const satisfies Record<string, readonly string[]>;

/** The router a procedure belongs to: `products` for `products.list`. */
export const routerOf = (spec: Pick<Spec, 'path'>) => spec.path.split('.')[0] ?? spec.path;

/**
 * Every procedure of the topic, sent hostile inputs by random callers: each
 * answer is a result or a 4xx, never a 500; a refused mutation and any query
 * change nothing; the app still serves afterwards.
 */
export function describeHostileInput(topic: keyof typeof topics): void {
  const routers: readonly string[] = topics[topic];
  describe.each(specs.filter((spec) => routers.includes(routerOf(spec))))(
    '$path under hostile input',
    (spec) => {
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
    },
  );
}
