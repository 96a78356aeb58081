// The pg pool as Kysely sees it, through pg's public API only: every
// statement goes through pg's callback API, and reads and writes can run as
// named prepared statements.
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Statements that are worth naming: reads and writes, not `begin`/`commit`. */
const nameable = /^\s*(select|insert|update|delete|with)\b/i;
// A text search's best plan depends on its pattern (how common the letters
// are), which a cached generic plan cannot see: those stay unnamed.
const patternDependent = /\bilike\b/i;

export interface KyselyPoolOptions {
  /**
   * Run every read or write statement as a named prepared statement, one
   * name per distinct SQL text: PostgreSQL then parses and plans it once per
   * connection instead of on every call. Kysely's texts are few, since
   * values always travel as parameters. Not for a transaction-mode pooler
   * (PgBouncer without `max_prepared_statements`): its server connections
   * change under the client.
   */
  namedStatements: boolean;
  /** At most this many texts get a name (default 500); any beyond run unnamed, so memory stays bounded on both sides. */
  maxNames?: number;
}

/**
 * Wraps `pool` for Kysely's `PostgresDialect`.
 *
 * Statements go through pg's callback API (`client.query(config, callback)`)
 * rather than the promise `client.query` returns without one. Under scenario
 * A's load (`pnpm bench`), results taken through that promise survived two
 * young-generation collections: V8 promoted every page's rows to the old
 * space, about 7 MB per collection, each collection paused 7–12 ms and
 * mark-compacts followed. Through the callback API the same load promotes
 * nothing and collections pause about 1 ms. Found by `--trace-gc-nvp` and
 * V8's sampling heap profiler on a bare `node:http` server: pg's promise
 * form promoted, the callback form with our own promise did not. Which
 * reference keeps the rows reachable for the young collector was not pinned
 * down; docs/performance.md has the figures.
 *
 * @example
 * ```ts
 * const db = new Kysely<DB>({
 *   dialect: new PostgresDialect({ pool: kyselyPool(pool, { namedStatements: true }) }),
 * });
 * ```
 */
export function kyselyPool(pool: pg.Pool, options: KyselyPoolOptions): PostgresPool {
  const maxNames = options.namedStatements ? (options.maxNames ?? 500) : 0;
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    const known = names.get(text);
    if (known !== undefined) return known;
    if (names.size >= maxNames || !nameable.test(text) || patternDependent.test(text))
      return undefined;
    const name = `keel_${names.size.toString(36)}`;
    names.set(text, name);
    return name;
  };
  // Kysely keeps one connection object per client it is handed: hand it the
  // same wrapper for the same pooled client every time.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => ({
    // Kysely reads it to cancel a running query.
    get processID() {
      return (client as { processID?: number }).processID;
    },
    query: ((textOrCursor: unknown, parameters?: readonly unknown[]) => {
      // A cursor (Kysely's streaming) is a submittable: pg takes it as it is.
      if (typeof textOrCursor !== 'string') return client.query(textOrCursor as never);
      const name = nameOf(textOrCursor);
      const values = parameters as unknown[];
      // No `name` key at all when unnamed: whoever inspects a query config
      // (the PgBouncer suite does) reads a `name` key as a named statement.
      const config: pg.QueryConfig =
        name === undefined ? { text: textOrCursor, values } : { name, text: textOrCursor, values };
      return new Promise<pg.QueryResult>((resolve, reject) => {
        client.query(config, (error: Error | undefined, result: pg.QueryResult) => {
          if (error) reject(error);
          else resolve(result);
        });
      });
    }) as unknown as PostgresPoolClient['query'],
    // `true` (after a failed rollback) destroys the connection instead of pooling it.
    release: (destroy?: boolean) => client.release(destroy),
  });
  return {
    options: pool.options,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
