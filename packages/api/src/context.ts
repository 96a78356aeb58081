import type { DB } from '@keel/db';
import type { Kysely } from 'kysely';

/** What every procedure can reach. Tests build it directly, without HTTP. */
export interface Context {
  db: Kysely<DB>;
}

/**
 * The pure inner context: everything a procedure needs, nothing from HTTP.
 *
 * @example
 * ```ts
 * const caller = appRouter.createCaller(createInnerContext({ db }));
 * ```
 */
export function createInnerContext(deps: { db: Kysely<DB> }): Context {
  return { db: deps.db };
}
