import type { DB } from '@keel/db';
import type { Kysely } from 'kysely';
import type { Context } from './context';
import { isDatabaseUnavailable } from './errors';
import type { AuthenticatedUser } from './queries/sessions';

/**
 * A streaming replica the catalogue may read from. The server watches it in
 * the background (reachable, and its replay within REPLICA_MAX_LAG_MS of the
 * primary) and hands out its pool only while it is fit to serve.
 */
export interface ReadReplica {
  /** The replica's pool while reads may go there; undefined sends them to the primary. */
  current(): Kysely<DB> | undefined;
  /**
   * A read on the replica failed as an unreachable server fails: stop using
   * it until the next background check finds it answering again.
   */
  failed(error: unknown): void;
}

/**
 * Runs a catalogue read (`products.list`, `byId`, `bySku`) where it may be
 * served: on the replica for anonymous visitors and customers, on the primary
 * for admins (whose edits compare `expectedUpdatedAt` with what they read),
 * for a signed-in caller who wrote within the read-your-writes window, and whenever the
 * replica is absent, lagging or down. A read the replica fails to answer
 * (unreachable, or cancelled by a recovery conflict) runs again on the
 * primary, so the caller never sees the replica's trouble.
 *
 * @example
 * ```ts
 * const page = await readCatalogue(ctx, (db) => listProducts(db, input, input));
 * ```
 */
export async function readCatalogue<T>(
  ctx: Context & { user?: AuthenticatedUser | null },
  read: (db: Kysely<DB>) => Promise<T>,
): Promise<T> {
  // The read-your-writes cookie counts only for a signed-in caller: only they
  // can have written, and an anonymous scraper setting it must not pull
  // every read onto the primary.
  const mustBeFresh = ctx.user?.role === 'admin' || (Boolean(ctx.user) && ctx.wroteRecently);
  const replica = mustBeFresh ? undefined : ctx.readReplica?.current();
  if (!replica) return read(ctx.db);
  try {
    return await read(replica);
  } catch (error) {
    if (isDatabaseUnavailable(error)) ctx.readReplica?.failed(error);
    else if (!isRecoveryConflict(error)) throw error;
    return read(ctx.db);
  }
}

/**
 * A hot standby cancels a query whose rows the primary's WAL (a vacuum, a
 * lock) must now change; SQLSTATE 40001 with this wording. The primary has
 * no such conflict.
 */
function isRecoveryConflict(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: string }).code === '40001' &&
    /conflict with recovery/i.test(error.message)
  );
}
