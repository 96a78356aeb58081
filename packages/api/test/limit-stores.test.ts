// The sign-in limits' rules, held once against both stores: the one in a
// process's memory and the one in PostgreSQL that every instance shares.
// Time is a clock the tests move; the PostgreSQL store takes it as a
// parameter instead of the database's own clock.
import { randomUUID } from 'node:crypto';
import { createDb } from '@keel/db';
import { createTestDatabase } from '@keel/platform/testing';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createAttemptLimit,
  createLoginThrottle,
  createMemoryLimitStore,
  createPostgresLimitStore,
  type LimitStore,
  type ThrottleRule,
  throttleDelayMs,
} from '../src/index';

const testDb = await createTestDatabase();
// A second pool as keel_app: a second instance of the service.
const otherInstance = createDb({ connectionString: testDb.urls.app, maxConnections: 4 });
afterAll(async () => {
  await otherInstance.destroy();
  await testDb.destroy();
});

const rule: ThrottleRule = {
  freeFailures: 2,
  baseDelayMs: 1_000,
  maxDelayMs: 4_000,
  forgetAfterMs: 60_000,
};

let days = 0;
/**
 * A clock the test moves by hand. Each starts a week after the last one
 * started, as real time would: a sweep that an earlier test set off (it runs
 * beside the hits, unawaited) never finds a later test's counts expired.
 */
function handClock() {
  days += 7;
  let now = Date.parse('2030-01-01T00:00:00Z') + days * 86_400_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const stores: [string, (clock: () => number) => LimitStore][] = [
  ['memory', (clock) => createMemoryLimitStore({ clock })],
  ['postgres', (clock) => createPostgresLimitStore(testDb.db, { clock })],
];
const fresh = (label: string) => `${label}-${randomUUID()}`;

describe.each(stores)('the %s store', (_kind, makeStore) => {
  test('a fixed window adds each hit (an expensive one counts as several) and starts again once it closes', async () => {
    const clock = handClock();
    const store = makeStore(clock.now);
    const key = fresh('window');
    expect(await store.hit(key, 60_000)).toBe(1);
    clock.advance(30_000);
    expect(await store.hit(key, 60_000, 3)).toBe(4);
    clock.advance(29_999);
    expect(await store.hit(key, 60_000)).toBe(5);
    clock.advance(1);
    expect(await store.hit(key, 60_000)).toBe(1);
  });

  test('the attempt limit refuses past its number in the window, refusals included, until the window closes', async () => {
    const clock = handClock();
    const allow = createAttemptLimit(makeStore(clock.now), 3, 60_000);
    const key = fresh('auth.login:192.0.2.1');
    const seen = [];
    for (let i = 0; i < 5; i += 1) seen.push(await allow(key));
    expect(seen).toEqual([true, true, true, false, false]);
    expect(await allow(fresh('auth.login:192.0.2.2'))).toBe(true);
    clock.advance(60_000);
    expect(await allow(key)).toBe(true);
  });

  test('the free failures pass, then each failure doubles the wait up to the longest; a refused attempt counts nothing', async () => {
    const clock = handClock();
    const store = makeStore(clock.now);
    const key = fresh('sign-in');
    const waits = [];
    for (let failure = 1; failure <= 6; failure += 1) {
      expect(await store.attempt(key, rule)).toBe(0);
      waits.push(await store.waitMs(key, rule));
      // Tried again at once: refused with the whole wait, and not counted.
      if (waits.at(-1)) expect(await store.attempt(key, rule)).toBe(waits.at(-1));
      clock.advance(waits.at(-1) ?? 0);
    }
    expect(waits).toEqual([0, 0, 1_000, 2_000, 4_000, 4_000]);
    expect(waits).toEqual([1, 2, 3, 4, 5, 6].map((n) => throttleDelayMs(rule, n)));
    clock.advance(-1);
    expect(await store.waitMs(key, rule)).toBe(1);
  });

  test('failures are forgotten a while after the last one, or at once by forget', async () => {
    const clock = handClock();
    const store = makeStore(clock.now);
    const [kept, cleared] = [fresh('kept'), fresh('cleared')];
    for (let i = 0; i < 3; i += 1) {
      await store.attempt(kept, rule);
      await store.attempt(cleared, rule);
    }
    expect(await store.waitMs(kept, rule)).toBe(1_000);
    await store.forget(cleared);
    expect(await store.waitMs(cleared, rule)).toBe(0);
    // Long after the wait, still remembered: the next failure waits 2 s.
    clock.advance(rule.forgetAfterMs - 1);
    expect(await store.attempt(kept, rule)).toBe(0);
    expect(await store.waitMs(kept, rule)).toBe(2_000);
    // Forgotten: free failures again.
    clock.advance(rule.forgetAfterMs);
    expect(await store.waitMs(kept, rule)).toBe(0);
    expect(await store.attempt(kept, rule)).toBe(0);
    expect(await store.waitMs(kept, rule)).toBe(0);
  });

  test('ten attempts at once: only the free failures and the first counted one pass, the rest wait', async () => {
    const clock = handClock();
    const store = makeStore(clock.now);
    const key = fresh('parallel');
    const waits = await Promise.all(Array.from({ length: 10 }, () => store.attempt(key, rule)));
    expect(waits.filter((w) => w === 0)).toHaveLength(rule.freeFailures + 1);
    expect(waits.filter((w) => w === 1_000)).toHaveLength(10 - rule.freeFailures - 1);
  });

  test('the login throttle keys an account by its email, whatever its case and spaces', async () => {
    const clock = handClock();
    const throttle = createLoginThrottle(makeStore(clock.now), { freeFailures: 1 });
    const email = `${fresh('case')}@example.com`;
    expect(await throttle.attempt(email)).toBe(0);
    expect(await throttle.attempt(` ${email.toUpperCase()} `)).toBe(0);
    expect(await throttle.attempt(email)).toBe(1_000);
    await throttle.succeeded(email.toUpperCase());
    expect(await throttle.waitMs(email)).toBe(0);
  });
});

describe('the PostgreSQL store', () => {
  test('two instances count into the same rows: failures alternated between them wait as if sent to one', async () => {
    const clock = handClock();
    const one = createPostgresLimitStore(testDb.db, { clock: clock.now });
    const two = createPostgresLimitStore(otherInstance, { clock: clock.now });
    const key = fresh('shared');
    const waits = [];
    for (let i = 0; i < 4; i += 1) waits.push(await (i % 2 ? two : one).attempt(key, rule));
    expect(waits).toEqual([0, 0, 0, 1_000]);
    expect(await two.hit(`${key}:window`, 60_000)).toBe(1);
    expect(await one.hit(`${key}:window`, 60_000)).toBe(2);
  });

  test('on the database clock by default: the wait it reports is the rule’s, measured there', async () => {
    const store = createPostgresLimitStore(testDb.db);
    const key = fresh('db-clock');
    for (let i = 0; i < 3; i += 1) expect(await store.attempt(key, rule)).toBe(0);
    const wait = await store.attempt(key, rule);
    expect(wait).toBeGreaterThan(500);
    expect(wait).toBeLessThanOrEqual(1_000);
  });

  test('expired counts are swept by a later hit; live ones stay', async () => {
    const clock = handClock();
    const store = createPostgresLimitStore(testDb.db, { clock: clock.now, sweepEveryMs: 30_000 });
    const prefix = fresh('sweep');
    for (let i = 0; i < 20; i += 1) await store.hit(`${prefix}:${i}`, 1_000);
    await store.attempt(`${prefix}:account`, rule);
    const left = async () =>
      (
        await testDb.db
          .selectFrom('rate_limit_counters')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('key', 'like', `${prefix}:%`)
          .executeTakeFirstOrThrow()
      ).n;
    expect(await left()).toBe(21);
    clock.advance(30_000);
    await store.hit(`${prefix}:late`, 1_000);
    // The sweep runs beside the hit: the 20 closed windows go, the account and the new window stay.
    await expect.poll(left).toBe(2);
  });

  test('the table is UNLOGGED and keel_app can use it without any DDL', async () => {
    const { rows } = await sql<{ persistence: string; owner: string }>`
      select c.relpersistence as persistence, pg_get_userbyid(c.relowner) as owner
      from pg_class c where c.relname = 'rate_limit_counters'`.execute(testDb.db);
    expect(rows).toEqual([{ persistence: 'u', owner: 'keel_owner' }]);
    const { rows: me } = await sql<{ user: string }>`select current_user as user`.execute(
      testDb.db,
    );
    expect(me[0]?.user).toBe('keel_app');
  });
});
