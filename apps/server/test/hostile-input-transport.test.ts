// Hostile input against the transport rather than one procedure: unknown
// procedure names, hostile batches, and a fixed list of malformed requests
// (broken JSON, wrong methods and content types, oversized and odd batches)
// sent to every procedure, over raw HTTP: never a 500, refused requests change
// nothing. The per-procedure properties run in hostile-input-{auth,products,
// orders}.test.ts; the shared set-up is in ./hostile-input/.
import { appRouter } from '@keel/api';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  hostile,
  requestOf,
  routerOf,
  type Spec,
  specs,
  topics,
  wireOf,
  wireText,
} from './hostile-input/inputs';
import {
  admin,
  app,
  caller,
  fingerprint,
  headersOf,
  record,
  served,
  stillServing,
  throwawayToken,
  tokenOf,
} from './hostile-input/setup';

// ---------------------------------------------------------------------------

test('the properties cover every procedure of the appRouter exactly once, each in one topic suite', () => {
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
  // Each router's procedures are run by exactly one topic suite (hostile-input-<topic>.test.ts).
  const routers = Object.values(topics).flat();
  expect([...routers].sort()).toEqual([...new Set(specs.map(routerOf))].sort());
  expect(new Set(routers).size).toBe(routers.length);
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
  ['products.list', 'orders.list', 'users.list', 'webhooks.failedDeliveries'].includes(spec.path);
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
