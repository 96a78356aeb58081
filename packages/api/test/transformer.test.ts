import fc from 'fast-check';
import superjson from 'superjson';
import { describe, expect, test } from 'vitest';
import { isoString, serializeFast } from '../src/transformer';

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

describe('isoString', () => {
  test('is toISOString across the whole Date range', () => {
    const edges = [-8.64e15, -62_167_219_200_001, -62_167_219_200_000, -1, 0, 253_402_300_799_999];
    // Years of fewer than four digits are padded; the random dates rarely fall there.
    const shortYears = ['0009-03-04T05:06:07.008Z', '0999-12-31T23:59:59.999Z'].map(Date.parse);
    for (const time of [...edges, ...shortYears, 253_402_300_800_000, 8.64e15]) {
      expect(isoString(new Date(time))).toBe(new Date(time).toISOString());
    }
    fc.assert(
      fc.property(date, (d) => {
        expect(isoString(d)).toBe(d.toISOString());
      }),
      { numRuns: 5000 },
    );
  });
});

describe('serializeFast leaves the value it is given alone', () => {
  test('Dates are written in copies; objects without Dates are shared, not copied', () => {
    const at = new Date(1_700_000_000_123);
    const tags = { list: ['a', 'b'] };
    const value = { items: [{ at, tags }], other: tags };
    const result = serializeFast(value);
    // The procedure's own objects still hold their Date.
    expect(value.items[0]?.at).toBe(at);
    const json = result.json as { items: { at: unknown; tags: unknown }[]; other: unknown };
    expect(json.items[0]?.at).toBe('2023-11-14T22:13:20.123Z');
    expect(json.items[0]?.tags).toBe(tags);
    expect(json.other).toBe(tags);
    expect(json).not.toBe(value);
    // Without a Date there is nothing to copy.
    expect(serializeFast(tags).json).toBe(tags);
  });
});

describe('serializeFast reuses the meta of a shape it has written', () => {
  const page = (count: number, base: number) => ({
    items: Array.from({ length: count }, (_, i) => ({ id: i, at: new Date(base + i) })),
  });

  test('pages of one shape share one frozen values object; another shape gets its own', () => {
    const first = serializeFast(page(3, 0));
    const second = serializeFast(page(3, 1_000_000));
    const other = serializeFast(page(2, 0));
    expect(first.meta?.values).toBe(second.meta?.values);
    expect(Object.isFrozen(first.meta?.values)).toBe(true);
    expect(other.meta?.values).not.toBe(first.meta?.values);
    expect(other.meta?.values).toEqual({ 'items.0.at': ['Date'], 'items.1.at': ['Date'] });
    // The shared meta still reads back each page's own Dates.
    expect(superjson.deserialize(second)).toEqual(page(3, 1_000_000));
  });
});
