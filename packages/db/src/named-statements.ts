// Named prepared statements for Kysely's pg pool, through pg's public API
// (a query config with a `name`): PostgreSQL parses and plans a statement
// once per connection instead of on every call, which is work the database
// server does for every request otherwise.
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Statements that are worth naming: reads and writes, not `begin`/`commit`. */
const nameable = /^\s*(select|insert|update|delete|with)\b/i;
// A text search's best plan depends on its pattern (how common the letters
// are), which a cached generic plan cannot see: those stay unnamed.
const patternDependent = /\bilike\b/i;

/**
 * Wraps `pool` so that every read or write statement Kysely sends runs as a
 * named prepared statement, one name per distinct SQL text (Kysely's SQL
 * texts are few: values always travel as parameters). At most `maxNames`
 * texts get a name; any beyond (a query built with unusually many shapes)
 * run unnamed, so memory stays bounded on both sides.
 *
 * Not for a transaction-mode pooler (PgBouncer without
 * `max_prepared_statements`): its connections change under the client.
 */
export function withNamedStatements(pool: pg.Pool, maxNames = 500): PostgresPool {
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
      if (typeof textOrCursor !== 'string') return client.query(textOrCursor as never);
      const name = nameOf(textOrCursor);
      return name === undefined
        ? client.query(textOrCursor, parameters as unknown[])
        : client.query({ name, text: textOrCursor, values: parameters as unknown[] });
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
