import superjson from 'superjson';

type SuperJSONResult = ReturnType<typeof superjson.serialize>;

// superjson's escaping of object keys inside meta paths.
function escapeKey(key: string): string {
  return key.replace(/\\/g, '\\\\').replace(/\./g, '\\.');
}

/** Thrown inside the walk when a value needs superjson's general path. */
const notPlain = Symbol('not plain');

/**
 * superjson's wire format, written fast for what procedures return: plain
 * objects, arrays, strings, finite numbers, booleans, null and Dates. It
 * walks the value once, copying nothing, and records Date paths exactly as
 * superjson does, so any superjson client reads it (the JSON text is what
 * superjson would write: JSON.stringify turns a Date into toISOString()). Anything else (undefined, bigint, Map, Set,
 * class instances, NaN, -0, a Date at the root) falls back to
 * `superjson.serialize`. Profiling put superjson's general walk at ~18% of
 * a products.list request.
 *
 * @example
 * ```ts
 * superjson.deserialize(serializeFast({ at: new Date() })); // { at: Date }
 * ```
 */
export function serializeFast(value: unknown): SuperJSONResult {
  let dates: Record<string, ['Date']> | undefined;
  // The path to the current node as escaped segments; joined only when a
  // Date is found, so the common case builds no path strings at all.
  const segments: string[] = [];
  // Only checks and records Date paths: the value itself is the JSON, since
  // JSON.stringify writes a Date exactly as superjson does (toISOString).
  const check = (node: unknown): void => {
    if (node === null) return;
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (Number.isFinite(node) && !Object.is(node, -0)) return;
        throw notPlain;
      case 'object': {
        if (node instanceof Date) {
          if (segments.length === 0 || Number.isNaN(node.getTime())) throw notPlain;
          dates ??= {};
          dates[segments.join('.')] = ['Date'];
          return;
        }
        if (Array.isArray(node)) {
          for (let i = 0; i < node.length; i += 1) {
            segments.push(String(i));
            check(node[i]);
            segments.pop();
          }
          return;
        }
        const prototype = Object.getPrototypeOf(node);
        if (prototype !== Object.prototype && prototype !== null) throw notPlain;
        for (const key in node) {
          // Keys superjson refuses or treats specially: let it decide.
          if (
            key === '__proto__' ||
            key === 'constructor' ||
            key === 'prototype' ||
            key === 'toJSON'
          )
            throw notPlain;
          segments.push(key.includes('.') || key.includes('\\') ? escapeKey(key) : key);
          check((node as Record<string, unknown>)[key]);
          segments.pop();
        }
        return;
      }
      default:
        throw notPlain;
    }
  };
  try {
    check(value);
  } catch (error) {
    if (error === notPlain) return superjson.serialize(value);
    throw error;
  }
  const json = value as SuperJSONResult['json'];
  return dates ? { json, meta: { values: dates, v: 1 } } : { json };
}

/** Keel's tRPC transformer: superjson in, superjson's format out, written by `serializeFast`. */
export const keelTransformer = {
  input: superjson,
  output: {
    serialize: serializeFast,
    deserialize: (value: SuperJSONResult) => superjson.deserialize(value),
  },
};
