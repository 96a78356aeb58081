// Queries built and compiled once, then run with new values: what a hot
// request would otherwise spend building Kysely's operation tree and
// compiling it to SQL on every call (about 8 % of a products.byId request
// in the profile). Only public Kysely API: a query-only Kysely instance
// (DummyDriver, as Kysely's docs show for building without executing),
// `compile()`, and `executeQuery` on the real instance.
import {
  type Compilable,
  type CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import type { DB } from './generated/db';

/** Builds and compiles queries; it has no connection and never runs one. */
const compiler = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** A stand-in for a value: a fresh object, so that it is found in the parameters by identity. */
class StandIn {
  constructor(readonly index: number) {}
}

/** Something Kysely can run: the primary, a replica, or a transaction. */
interface Executor {
  executeQuery<R>(query: CompiledQuery<R>): Promise<{ rows: R[] }>;
}

/**
 * Compiles `build` once, with stand-ins for its `arity` values, and returns
 * a function that runs the compiled SQL on `db` with the values it is given
 * in their places. `build` must pass each value to Kysely as a parameter
 * (a comparison, a `set`, a `sql` template value) and must not look at it:
 * a query whose shape depends on a value (an optional filter, a list's
 * length) is one `compileOnce` per shape. A value that does not appear in
 * the compiled parameters is refused at compile time, so a stand-in cannot
 * silently end up in the SQL text. The compiler has no plugins: were
 * `createDb` to gain one that rewrites queries, compiled-once queries would
 * not see it.
 *
 * @example
 * ```ts
 * const byId = compileOnce(1, (db, id) =>
 *   db.selectFrom('products').select(['id', 'name']).where('id', '=', id));
 * const { rows } = await byId(db, productId);
 * ```
 */
export function compileOnce<Row, Values extends unknown[]>(
  arity: Values['length'],
  build: (db: Kysely<DB>, ...values: Values) => Compilable<Row>,
): (db: Executor, ...values: Values) => Promise<{ rows: Row[] }> {
  let compiled: { query: CompiledQuery<Row>; slots: (number | undefined)[] } | undefined;
  const compile = () => {
    const standIns = Array.from({ length: arity }, (_, i) => new StandIn(i));
    const query = build(compiler, ...(standIns as unknown as Values)).compile();
    const slots = query.parameters.map((p) => (p instanceof StandIn ? p.index : undefined));
    for (const standIn of standIns) {
      if (!slots.includes(standIn.index))
        throw new Error(`compileOnce: value ${standIn.index} is not a parameter of the query`);
    }
    return { query, slots };
  };
  return async (db, ...values) => {
    compiled ??= compile();
    const { query, slots } = compiled;
    return db.executeQuery<Row>({
      ...query,
      parameters: query.parameters.map((p, i) => {
        const slot = slots[i];
        return slot === undefined ? p : values[slot];
      }),
    });
  };
}
