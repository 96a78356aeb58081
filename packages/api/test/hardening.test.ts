// The abuse paths an adversarial review found, each closed: per-account
// sign-in throttle, re-authentication for sensitive changes, a password
// policy, safe display names, sentences for invalid input, the auth scheme.
import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, describe, expect, test } from 'vitest';
import { bearerToken, createInnerContext } from '../src/context';
import {
  createCaller,
  createLoginThrottle,
  createPostgresLimitStore,
  type LoginThrottle,
  type LoginThrottleOptions,
} from '../src/index';
import { weakPasswordReason } from '../src/shapes';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const db = testDb.db;
const password = 'correct-horse-battery';

/** The throttle as the service runs it, counting in PostgreSQL; `clock` stops time for a test. */
function throttleFor(options: LoginThrottleOptions = {}, clock?: () => number): LoginThrottle {
  return createLoginThrottle(createPostgresLimitStore(db, clock ? { clock } : {}), options);
}

function callers(loginThrottle: LoginThrottle = throttleFor()) {
  return {
    anonymous: createCaller(createInnerContext({ db, loginThrottle })),
    asUser: (token: string) => createCaller(createInnerContext({ db, token, loginThrottle })),
  };
}

async function failure(run: Promise<unknown>): Promise<TRPCError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof TRPCError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The error as a client sees it: the formatter's message and field errors. */
function shaped(error: TRPCError) {
  const cause = error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined;
  return { code: error.code, fields: (cause?.issues ?? []).map((i) => i.path.join('.')) };
}

async function register(label: string, loginThrottle?: LoginThrottle) {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const { anonymous, asUser } = callers(loginThrottle);
  const { token, user } = await anonymous.auth.register({ email, password, displayName: label });
  return { email, token, user, caller: asUser(token) };
}

describe('the sign-in throttle, per account', () => {
  test('after 5 failures from anywhere the next attempt waits, then the wait doubles', async () => {
    // A stopped clock: the wait shown must not depend on how long a hash took.
    const throttle = throttleFor({ freeFailures: 5, baseDelayMs: 60_000 }, () => 2_000_000);
    const { email } = await register('throttled', throttle);
    const { anonymous } = callers(throttle);
    for (let i = 0; i < 5; i += 1) {
      const wrong = await failure(anonymous.auth.login({ email, password: `wrong-${i}` }));
      expect(wrong.code).toBe('UNAUTHORIZED');
    }
    // The sixth failure starts the wait; then even the right password waits.
    expect((await failure(anonymous.auth.login({ email, password: 'wrong-6' }))).code).toBe(
      'UNAUTHORIZED',
    );
    const refused = await failure(anonymous.auth.login({ email, password }));
    expect(refused.code).toBe('TOO_MANY_REQUESTS');
    expect(refused.message).toMatch(/too many failed sign-ins for this email; try again in 60 s/);
    expect(await throttle.waitMs(email)).toBe(60_000);
    // Refused attempts count nothing; the next counted failure doubles the wait.
    expect(await throttle.attempt(email)).toBe(60_000);
    expect(await throttle.waitMs(email)).toBe(60_000);
  });

  test('an unknown email is throttled exactly like a real one, so the refusal reveals nothing', async () => {
    // A stopped clock: the wait shown must not depend on how long a hash took.
    const throttle = throttleFor({ freeFailures: 2, baseDelayMs: 60_000 }, () => 1_000_000);
    const { email } = await register('real', throttle);
    const { anonymous } = callers(throttle);
    const ghost = `ghost-${randomUUID().slice(0, 8)}@example.com`;
    const outcomes = [];
    for (const target of [email, ghost]) {
      const seen = [];
      for (let i = 0; i < 4; i += 1) {
        const error = await failure(
          anonymous.auth.login({ email: target, password: 'not-it-at-all' }),
        );
        seen.push(`${error.code}: ${error.message}`);
      }
      outcomes.push(seen);
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]?.at(-1)).toMatch(/^TOO_MANY_REQUESTS/);
  });

  test('a successful sign-in clears the count; the email is matched case-insensitively', async () => {
    const throttle = throttleFor({ freeFailures: 1, baseDelayMs: 60_000 });
    const { email } = await register('cleared', throttle);
    const { anonymous } = callers(throttle);
    await failure(anonymous.auth.login({ email, password: 'wrong-password' }));
    await anonymous.auth.login({ email: email.toUpperCase(), password });
    await failure(anonymous.auth.login({ email, password: 'wrong-password' }));
    expect(await throttle.waitMs(email)).toBe(0);
  });
});

describe('sensitive changes ask for the password again', () => {
  test('changing the password needs currentPassword; a wrong one is a field error that counts toward the throttle', async () => {
    const throttle = throttleFor({ freeFailures: 1, baseDelayMs: 60_000 });
    const { caller, email } = await register('repass', throttle);
    const missing = await failure(caller.users.updateMe({ password: 'another-long-secret' }));
    expect(shaped(missing)).toEqual({ code: 'BAD_REQUEST', fields: ['currentPassword'] });

    const wrong = await failure(
      caller.users.updateMe({ password: 'another-long-secret', currentPassword: 'guessing-1' }),
    );
    expect(shaped(wrong)).toEqual({ code: 'BAD_REQUEST', fields: ['currentPassword'] });
    expect(wrong.message).toBe('invalid input: currentPassword: is not your current password');
    expect(await throttle.waitMs(email)).toBe(0);
    await failure(
      caller.users.updateMe({ password: 'another-long-secret', currentPassword: 'guessing-2' }),
    );
    expect(await throttle.waitMs(email)).toBeGreaterThan(0);
    expect(
      (
        await failure(
          caller.users.updateMe({ password: 'another-long-secret', currentPassword: password }),
        )
      ).code,
    ).toBe('TOO_MANY_REQUESTS');
    // The session itself still works: a wrong password does not sign the frontend out.
    expect((await caller.auth.me()).email).toBe(email);
  });

  test('a display-name-only change needs no password', async () => {
    const { caller } = await register('renamer');
    expect((await caller.users.updateMe({ displayName: 'Renamed' })).displayName).toBe('Renamed');
  });

  test('deleting the account needs the password; a wrong one deletes nothing', async () => {
    const { caller, user } = await register('leaver');
    const wrong = await failure(caller.users.deleteMe({ password: 'not-my-password' }));
    expect(shaped(wrong)).toEqual({ code: 'BAD_REQUEST', fields: ['password'] });
    const row = await db
      .selectFrom('users')
      .select('deleted_at')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeNull();
    expect(await caller.users.deleteMe({ password })).toEqual({ deleted: true });
  });
});

describe('passwords a person understands', () => {
  test.each([
    ['aaaaaaaaaaaa', 'must use at least 5 different characters'],
    ['password1234', 'is one of the most common passwords; choose another'],
    ['PASSWORD1234', 'is one of the most common passwords; choose another'],
    ['121212121212', 'must use at least 5 different characters'],
  ])('%s is refused: %s', async (weak, reason) => {
    expect(weakPasswordReason(weak)).toBe(reason);
    const { anonymous } = callers();
    const error = await failure(
      anonymous.auth.register({
        email: `weak-${randomUUID().slice(0, 8)}@example.com`,
        password: weak,
        displayName: 'Weak',
      }),
    );
    expect(shaped(error)).toEqual({ code: 'BAD_REQUEST', fields: ['password'] });
  });

  test('a password built from the email is refused at registration and on change', async () => {
    const { anonymous } = callers();
    const email = `margarethe-${randomUUID().slice(0, 8)}@example.com`;
    const error = await failure(
      anonymous.auth.register({ email, password: `${email}!`, displayName: 'M' }),
    );
    expect(shaped(error)).toEqual({ code: 'BAD_REQUEST', fields: ['password'] });
    const local = email.split('@')[0] ?? '';
    const byName = await failure(
      anonymous.auth.register({ email, password: `${local}2026!!`, displayName: 'M' }),
    );
    expect(byName.message).toContain(
      'must not be your email address or its name with digits added',
    );
    // A password that merely mentions the name is the person's own choice.
    const { token } = await anonymous.auth.register({
      email,
      password: `${local}s-violet-harbour`,
      displayName: 'M',
    });
    expect(token).toBeTruthy();

    const { caller, email: own } = await register('owner');
    const change = await failure(
      caller.users.updateMe({ password: `${own.split('@')[0]}-2026!`, currentPassword: password }),
    );
    expect(shaped(change)).toEqual({ code: 'BAD_REQUEST', fields: ['password'] });
  });

  test('a long, varied password that is not on the list is accepted', () => {
    expect(weakPasswordReason('violet-harbour-lamp-42', 'someone@example.com')).toBeNull();
  });
});

describe('display names', () => {
  test.each([
    ['a bidi override', 'Evil\u202Egnp.exe'],
    ['a bidi isolate', 'Name\u2066x\u2069'],
    ['a control character', 'Bell\u0007'],
    ['an escape sequence', 'Red\u001b[31m'],
  ])('with %s are refused', async (_, name) => {
    const { caller } = await register('shown');
    const error = await failure(caller.users.updateMe({ displayName: name }));
    expect(shaped(error)).toEqual({ code: 'BAD_REQUEST', fields: ['displayName'] });
    expect(error.message).toContain('control characters or bidirectional overrides');
  });

  test('are stored NFC-normalised, so one name typed two ways is one name', async () => {
    const { caller } = await register('unicode');
    const decomposed = 'Jose\u0301';
    const updated = await caller.users.updateMe({ displayName: decomposed });
    expect(updated.displayName).toBe('Jos\u00e9');
  });
});

describe('invalid input is answered in sentences', () => {
  test('the message names each field in words, not zod JSON; field errors stay for forms', async () => {
    const { anonymous } = callers();
    const error = await failure(anonymous.products.list({ limit: 500, sort: 'sideways' as never }));
    expect(error.code).toBe('BAD_REQUEST');
    // Through the formatter, as a client receives it.
    const { getErrorShape } = await import('@trpc/server');
    const { appRouter } = await import('../src/root');
    const shape = getErrorShape({
      config: appRouter._def._config,
      error,
      type: 'query',
      path: 'products.list',
      input: undefined,
      ctx: undefined,
    });
    expect(shape.message).toMatch(/^invalid input: limit: .+; sort: .+/);
    expect(shape.message).not.toMatch(/[[{]/);
    expect(Object.keys(shape.data.zodError?.fieldErrors ?? {}).sort()).toEqual(['limit', 'sort']);
  });
});

describe('the bearer scheme', () => {
  test('is case-insensitive; the token is not', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz012345';
    expect(bearerToken(`Bearer ${token}`)).toBe(token);
    expect(bearerToken(`bearer ${token}`)).toBe(token);
    expect(bearerToken(`BEARER ${token}`)).toBe(token);
    expect(bearerToken(`Basic ${token}`)).toBeNull();
    expect(bearerToken(`Bearer${token}`)).toBeNull();
  });
});

describe('search cannot be turned into a table scan', () => {
  test.each([['ab'], ['%%%_'], ['a_%'], ['  x  ']])(
    'a search of %j is BAD_REQUEST before any SQL',
    async (search) => {
      const { anonymous } = callers();
      const error = await failure(anonymous.products.list({ search }));
      expect(shaped(error)).toEqual({ code: 'BAD_REQUEST', fields: ['search'] });
      expect(error.message).toContain('must hold at least 3 letters or digits');
    },
  );

  test('one request carries at most 4 searches; the fifth is TOO_MANY_REQUESTS', async () => {
    // One context is one HTTP request (a batch shares it).
    const caller = createCaller(createInnerContext({ db }));
    const results = await Promise.allSettled(
      ['lamp', 'desk', 'mug', 'tent', 'kettle'].map((search) => caller.products.list({ search })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect((refused?.reason as TRPCError | undefined)?.code).toBe('TOO_MANY_REQUESTS');
  });
});

describe('the search bulkhead', () => {
  test('runs at most `size` at once, queues a few, refuses the rest', async () => {
    const { createBulkhead, TooManyRequests } = await import('../src/index');
    const bulkhead = createBulkhead(1, 1);
    let running = 0;
    let most = 0;
    const work = () =>
      bulkhead.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 30));
        running -= 1;
        return 'done';
      });
    const results = await Promise.allSettled([work(), work(), work()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(TooManyRequests);
    expect(most).toBe(1);
    // Slots are handed on and freed: it runs again afterwards.
    expect(await work()).toBe('done');
  });
});

describe('the throttle under parallel attempts', () => {
  test('ten wrong passwords sent at once still end in the wait', async () => {
    const throttle = throttleFor({ freeFailures: 5, baseDelayMs: 60_000 });
    const { email } = await register('parallel', throttle);
    const { anonymous } = callers(throttle);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        anonymous.auth.login({ email, password: `guess-${i}-x` }),
      ),
    );
    const codes = outcomes.map((o) =>
      o.status === 'rejected' ? (o.reason as TRPCError).code : 'OK',
    );
    // Only the free failures reach the password check; the rest wait.
    expect(codes.filter((c) => c === 'UNAUTHORIZED').length).toBeLessThanOrEqual(6);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBeGreaterThanOrEqual(4);
  });

  test('an account is remembered long after its longest wait', async () => {
    let now = 1_000_000;
    const throttle = throttleFor(
      { freeFailures: 1, baseDelayMs: 1_000, maxDelayMs: 2_000 },
      () => now,
    );
    const kept = `kept-${randomUUID().slice(0, 8)}@example.com`;
    expect(await throttle.attempt(kept)).toBe(0);
    expect(await throttle.attempt(kept)).toBe(0);
    now += 1_000;
    expect(await throttle.attempt(kept)).toBe(0);
    // 16 minutes later another account's failure sweeps expired counts; this one is not forgotten.
    now += 16 * 60_000;
    await throttle.attempt(`other-${randomUUID().slice(0, 8)}@example.com`);
    expect(await throttle.attempt(kept)).toBe(0);
    expect(await throttle.waitMs(kept)).toBe(2_000);
  });
});
