import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, test } from 'vitest';
import { serializeFast } from '../src/transformer';

const date = fc.date({
  noInvalidDate: true,
  min: new Date(-8.64e15 + 1),
  max: new Date(8.64e15 - 1),
});
// Keys superjson refuses (__proto__, constructor, prototype) are left out: it throws on them.
const key = fc
  .oneof(fc.string(), fc.constantFrom('a.b', 'c\\d', '0', ''))
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
// Values procedures return: JSON values with Dates mixed in, keys with dots and backslashes too.
const plain = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
    date,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('serializeFast, the output transformer', () => {
  test('writes exactly what superjson writes for plain values with Dates', () => {
    fc.assert(
      fc.property(fc.dictionary(key, plain), (value) => {
        // Compare what goes over the wire: the JSON text's parsed form.
        expect(wire(serializeFast(value))).toEqual(wire(superjson.serialize(value)));
      }),
      { numRuns: 500 },
    );
  });

  test('superjson reads back the same value, Dates included', () => {
    fc.assert(
      fc.property(fc.dictionary(key, plain), (value) => {
        expect(superjson.deserialize(serializeFast(value))).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  test.each([
    ['undefined', { a: undefined }],
    ['a bigint', { a: 10n }],
    ['a Map', { a: new Map([[1, 2]]) }],
    ['a Set', { a: new Set([1]) }],
    ['NaN', { a: Number.NaN }],
    ['-0', { a: -0 }],
    ['a root Date', new Date(0)],
    ['an invalid Date', { a: new Date(Number.NaN) }],
  ])('falls back to superjson for %s', (_, value) => {
    expect(wire(serializeFast(value))).toEqual(wire(superjson.serialize(value)));
  });

  test('a product page keeps its Dates through the wire format', () => {
    const page = {
      items: [{ id: 'x', createdAt: new Date(1_700_000_000_123), priceCents: 999 }],
      nextCursor: null,
    };
    const wire = JSON.parse(JSON.stringify(serializeFast(page)));
    expect(wire.meta.values).toEqual({ 'items.0.createdAt': ['Date'] });
    expect(superjson.deserialize(wire)).toEqual(page);
  });
});
