// The sign-in limits' counts in PostgreSQL (the UNLOGGED table
// rate_limit_counters), so that every instance of the service counts into
// the same rows. Each hit and each attempt is one statement, an upsert, so
// counts taken at once by several instances never get lost; time is the
// database's clock, the one clock every instance shares.
import type { DB } from '@keel/db';
import { type Expression, type Kysely, type RawBuilder, sql } from 'kysely';
import type { LimitStore, ThrottleRule } from './limit-store';

export interface PostgresLimitStoreOptions {
  /** Instead of the database's clock, this one (ms since the epoch): tests move time with it. */
  clock?: () => number;
  /** At most one sweep of expired counts per this many ms in this process. Default 60 s. */
  sweepEveryMs?: number;
}

/**
 * The counts in PostgreSQL: what several instances of the service share.
 * Expired counts are deleted by a sweep that a hit starts at most once a
 * minute per process, without waiting for it.
 *
 * @example
 * ```ts
 * const store = createPostgresLimitStore(db);
 * const wait = await store.attempt('sign-in:ann@keel.dev', rule);
 * ```
 */
export function createPostgresLimitStore(
  db: Kysely<DB>,
  options: PostgresLimitStoreOptions = {},
): LimitStore {
  const { clock } = options;
  const sweepEveryMs = options.sweepEveryMs ?? 60_000;
  // A test's clock travels as a parameter; otherwise the statement's own time.
  const now = (): RawBuilder<Date> =>
    clock ? sql<Date>`${new Date(clock())}::timestamptz` : sql<Date>`current_timestamp`;
  const plus = (at: RawBuilder<Date>, ms: number) =>
    sql<Date>`${at} + ${ms}::float8 * interval '1 millisecond'`;
  let lastSweep = Number.NEGATIVE_INFINITY;
  const sweepNowAndThen = () => {
    const at = clock ? clock() : Date.now();
    if (at - lastSweep < sweepEveryMs) return;
    lastSweep = at;
    // Not awaited: the hit does not wait for it; a failed sweep is retried
    // by the next one, and the counts stay right either way.
    sweepExpired(db, now()).catch(() => {});
  };
  return {
    kind: 'postgres',
    async hit(key, windowMs, cost = 1) {
      sweepNowAndThen();
      const at = now();
      const row = await db
        .insertInto('rate_limit_counters')
        .values({ key, hit_count: cost, last_hit_at: at, expires_at: plus(at, windowMs) })
        .onConflict((conflict) =>
          conflict
            .column('key')
            .where('deleted_at', 'is', null)
            .doUpdateSet((eb) => {
              const over = eb('rate_limit_counters.expires_at', '<=', at);
              return {
                // A closed window starts again with this hit.
                hit_count: eb
                  .case()
                  .when(over)
                  .then(eb.ref('excluded.hit_count'))
                  .else(eb('rate_limit_counters.hit_count', '+', eb.ref('excluded.hit_count')))
                  .end(),
                expires_at: eb
                  .case()
                  .when(over)
                  .then(eb.ref('excluded.expires_at'))
                  .else(eb.ref('rate_limit_counters.expires_at'))
                  .end(),
                last_hit_at: eb.ref('excluded.last_hit_at'),
              };
            }),
        )
        .returning('hit_count')
        .executeTakeFirstOrThrow();
      return row.hit_count;
    },
    async attempt(key, rule) {
      sweepNowAndThen();
      const at = now();
      // Counted only when the account need not wait: the condition and the
      // count are one statement, so parallel attempts cannot all slip past.
      const counted = await db
        .insertInto('rate_limit_counters')
        .values({ key, hit_count: 1, last_hit_at: at, expires_at: plus(at, rule.forgetAfterMs) })
        .onConflict((conflict) =>
          conflict
            .column('key')
            .where('deleted_at', 'is', null)
            .doUpdateSet((eb) => ({
              // Forgotten failures start again from one.
              hit_count: eb
                .case()
                .when('rate_limit_counters.expires_at', '<=', at)
                .then(1)
                .else(eb('rate_limit_counters.hit_count', '+', 1))
                .end(),
              last_hit_at: eb.ref('excluded.last_hit_at'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where((eb) =>
              eb.or([
                eb('rate_limit_counters.expires_at', '<=', at),
                eb(waitEndsAt(sql.ref('rate_limit_counters'), rule), '<=', at),
              ]),
            ),
        )
        .returning('hit_count')
        .executeTakeFirst();
      if (counted) return 0;
      // Refused: how long is left (at least 1 ms, should it end meanwhile).
      return Math.max(1, await waitLeft(db, key, rule, now()));
    },
    waitMs(key, rule) {
      return waitLeft(db, key, rule, now());
    },
    async forget(key) {
      await db.deleteFrom('rate_limit_counters').where('key', '=', key).execute();
    },
  };
}

/**
 * When the wait after the row's last failure ends: `last_hit_at` plus
 * `throttleDelayMs(rule, hit_count)`, written in SQL (limit-store.ts has the
 * same rule in TypeScript; one test suite holds both to it). The builder has
 * no `power` or interval arithmetic, hence `sql`.
 */
function waitEndsAt(row: Expression<unknown>, rule: ThrottleRule): RawBuilder<Date> {
  const beyond = sql`${row}.hit_count - ${rule.freeFailures}::int`;
  return sql<Date>`${row}.last_hit_at + (case when ${beyond} > 0
    then least(${rule.maxDelayMs}::float8,
      ${rule.baseDelayMs}::float8 * power(2::float8, least(${beyond} - 1, 40)))
    else 0 end) * interval '1 millisecond'`;
}

async function waitLeft(
  db: Kysely<DB>,
  key: string,
  rule: ThrottleRule,
  at: RawBuilder<Date>,
): Promise<number> {
  const row = await db
    .selectFrom('rate_limit_counters')
    .select(
      sql<number>`ceil(extract(epoch from ${waitEndsAt(sql.ref('rate_limit_counters'), rule)} - ${at}) * 1000)::float8`.as(
        'waitMs',
      ),
    )
    .where('key', '=', key)
    .where('deleted_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Math.max(0, row?.waitMs ?? 0);
}

/**
 * Deletes every expired count. Rows another statement holds are skipped
 * (`skip locked`), so two instances sweeping at once never wait for each
 * other; what one skips, a later sweep takes.
 */
function sweepExpired(db: Kysely<DB>, at: RawBuilder<Date>) {
  return db
    .deleteFrom('rate_limit_counters')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('rate_limit_counters')
        .select('id')
        .where('expires_at', '<=', at)
        .forUpdate()
        .skipLocked(),
    )
    .execute();
}
