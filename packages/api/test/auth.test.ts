import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { ZodError, z } from 'zod';
import { createInnerContext } from '../src/context';
import { createCaller } from '../src/index';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());
const db = testDb.db;
const anonymous = createCaller(createInnerContext({ db }));
const asUser = (token: string) => createCaller(createInnerContext({ db, token }));

const password = 'correct-horse-battery';
const publicUserKeys = ['createdAt', 'displayName', 'email', 'id', 'isActive', 'role'];

async function errorOf(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? 'UNKNOWN';
  }
}

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

async function register(label: string) {
  const email = uniqueEmail(label);
  const result = await anonymous.auth.register({ email, password, displayName: label });
  return { ...result, email };
}

async function countRows(table: 'users' | 'sessions'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(run: Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run.catch(() => undefined);
  return performance.now() - start;
}

describe('auth.register', () => {
  test('returns the public user (no password hash) and a 43-character base64url token', async () => {
    const email = uniqueEmail('Reg');
    const { user, token } = await anonymous.auth.register({
      email,
      password,
      displayName: '  Regina  ',
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(user).sort()).toEqual(publicUserKeys);
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email,
      displayName: 'Regina',
      role: 'customer',
      isActive: true,
      createdAt: expect.any(Date),
    });
    expect(await asUser(token).auth.me()).toEqual(user);
  });

  test('a password shorter than 12 characters is BAD_REQUEST naming password, and writes nothing', async () => {
    const [users, sessions] = [await countRows('users'), await countRows('sessions')];
    const error = await errorOf(
      anonymous.auth.register({
        email: uniqueEmail('short'),
        password: 'elevenchars',
        displayName: 'S',
      }),
    );
    expect((error as { code?: string }).code).toBe('BAD_REQUEST');
    expect((error as Error).message).toContain('password');
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(ZodError);
    expect(z.flattenError(cause as ZodError).fieldErrors).toEqual({
      password: ['must be at least 12 characters'],
    });
    expect(await countRows('users')).toBe(users);
    expect(await countRows('sessions')).toBe(sessions);
  });

  test.each(['not-an-email', 'two@@example.com', 'spaces in@example.com', ''])(
    'a malformed email (%j) is BAD_REQUEST naming email, and writes nothing',
    async (email) => {
      const users = await countRows('users');
      const error = await errorOf(anonymous.auth.register({ email, password, displayName: 'Bad' }));
      expect((error as { code?: string }).code).toBe('BAD_REQUEST');
      const cause = (error as Error).cause;
      expect(cause).toBeInstanceOf(ZodError);
      expect(Object.keys(z.flattenError(cause as ZodError).fieldErrors)).toEqual(['email']);
      expect(await countRows('users')).toBe(users);
    },
  );

  test('a duplicate email, also one differing only in case, is CONFLICT and writes nothing', async () => {
    const first = await register('dupe');
    const [users, sessions] = [await countRows('users'), await countRows('sessions')];
    for (const email of [first.email, first.email.toUpperCase()]) {
      const error = await errorOf(
        anonymous.auth.register({ email, password, displayName: 'Twin' }),
      );
      expect((error as { code?: string }).code).toBe('CONFLICT');
      expect((error as Error).message).toBe('email is already registered');
    }
    expect(await countRows('users')).toBe(users);
    expect(await countRows('sessions')).toBe(sessions);
  });

  test('two concurrent registrations of one email: exactly one succeeds, the other is CONFLICT', async () => {
    const email = uniqueEmail('race');
    const users = await countRows('users');
    const results = await Promise.allSettled(
      ['Racer One', 'Racer Two'].map((displayName) =>
        anonymous.auth.register({ email, password, displayName }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(reasons.map((e) => (e as { code?: string }).code)).toEqual(['CONFLICT']);
    expect(await countRows('users')).toBe(users + 1);
  });

  test('the sessions row stores only sha256(token), 32 bytes; the token appears nowhere in the table', async () => {
    const { user, token } = await register('hash');
    const rows = await db
      .selectFrom('sessions')
      .select(['token_hash', 'user_id'])
      .where('user_id', '=', user.id)
      .execute();
    expect(rows).toHaveLength(1);
    const stored = rows[0]?.token_hash;
    expect(stored).toBeInstanceOf(Buffer);
    expect(stored?.length).toBe(32);
    expect(stored?.equals(createHash('sha256').update(token).digest())).toBe(true);

    const raw = Buffer.from(token, 'base64url');
    const forms = [token, Buffer.from(token).toString('hex'), raw.toString('hex')];
    const dump = await sql<{ row: string }>`select s::text as row from sessions as s`.execute(db);
    expect(dump.rows.length).toBeGreaterThan(0);
    for (const { row } of dump.rows) {
      for (const form of forms) expect(row.toLowerCase()).not.toContain(form.toLowerCase());
    }
  });
});

describe('auth.login', () => {
  test('the right password signs in and issues a new, working token', async () => {
    const { user, token, email } = await register('login');
    const result = await anonymous.auth.login({ email, password });
    expect(result.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.token).not.toBe(token);
    expect(Object.keys(result.user).sort()).toEqual(publicUserKeys);
    expect(result.user).toEqual(user);
    expect((await asUser(result.token).auth.me()).id).toBe(user.id);
    expect((await asUser(token).auth.me()).id).toBe(user.id);
    const sessions = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('deleted_at', 'is', null)
      .execute();
    expect(sessions).toHaveLength(2);
  });

  test('the email is matched without regard to case', async () => {
    const { user, email } = await register('CaseLogin');
    const result = await anonymous.auth.login({ email: email.toUpperCase(), password });
    expect(result.user.id).toBe(user.id);
  });

  test('an unknown email and a wrong password are both UNAUTHORIZED with the identical message', async () => {
    const { email } = await register('wrong');
    const sessions = await countRows('sessions');
    const unknown = await errorOf(anonymous.auth.login({ email: uniqueEmail('nobody'), password }));
    const wrong = await errorOf(anonymous.auth.login({ email, password: `${password}!` }));
    expect((unknown as { code?: string }).code).toBe('UNAUTHORIZED');
    expect((wrong as { code?: string }).code).toBe('UNAUTHORIZED');
    expect((unknown as Error).message).toBe('email or password is wrong');
    expect((wrong as Error).message).toBe((unknown as Error).message);
    expect(await countRows('sessions')).toBe(sessions);
  });

  test('an unknown email takes as long as a wrong password (medians within a factor of 3)', async () => {
    const { email } = await register('timing');
    const unknownTimes: number[] = [];
    const wrongTimes: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      unknownTimes.push(
        await timed(anonymous.auth.login({ email: uniqueEmail('ghost'), password })),
      );
      wrongTimes.push(await timed(anonymous.auth.login({ email, password: 'not-the-password' })));
    }
    const [unknown, wrong] = [median(unknownTimes), median(wrongTimes)];
    // Both must run scrypt (~50–100 ms); a skipped hash would answer in a few ms.
    expect(Math.max(unknown, wrong) / Math.min(unknown, wrong)).toBeLessThanOrEqual(3);
    expect(Math.min(unknown, wrong)).toBeGreaterThan(10);
  });

  test('a deactivated user cannot sign in', async () => {
    const { user, email } = await register('inactive-login');
    await db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    expect(await codeOf(anonymous.auth.login({ email, password }))).toBe('UNAUTHORIZED');
  });
});

describe('auth.me and auth.logout', () => {
  test('auth.me returns the signed-in user; without a token it is UNAUTHORIZED', async () => {
    const { user, token } = await register('me');
    expect(await asUser(token).auth.me()).toEqual(user);
    expect(await codeOf(anonymous.auth.me())).toBe('UNAUTHORIZED');
  });

  test('logout revokes that session only: its token is UNAUTHORIZED, another session keeps working', async () => {
    const { user, token, email } = await register('logout');
    const other = await anonymous.auth.login({ email, password });
    expect(await asUser(token).auth.logout()).toEqual({ signedOut: true });

    const hash = createHash('sha256').update(token).digest();
    const revoked = await db
      .selectFrom('sessions')
      .select('deleted_at')
      .where('token_hash', '=', hash)
      .executeTakeFirstOrThrow();
    expect(revoked.deleted_at).toBeInstanceOf(Date);
    expect(await codeOf(asUser(token).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(token).auth.logout())).toBe('UNAUTHORIZED');

    expect((await asUser(other.token).auth.me()).id).toBe(user.id);
    const live = await db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', user.id)
      .where('deleted_at', 'is', null)
      .execute();
    expect(live).toHaveLength(1);
  });

  test('an expired token is UNAUTHORIZED', async () => {
    const { email } = await register('expired');
    const shortLived = createCaller(createInnerContext({ db, settings: { sessionTtlMs: 1000 } }));
    const { token } = await shortLived.auth.login({ email, password });
    expect(await codeOf(asUser(token).auth.me())).toBe('OK');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await codeOf(asUser(token).auth.me())).toBe('UNAUTHORIZED');
  });

  test('a session registered with a tiny TTL is expired shortly after', async () => {
    const shortLived = createCaller(createInnerContext({ db, settings: { sessionTtlMs: 50 } }));
    const { token } = await shortLived.auth.register({
      email: uniqueEmail('tiny'),
      password,
      displayName: 'Tiny',
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await codeOf(asUser(token).auth.me())).toBe('UNAUTHORIZED');
  });

  test('a forged token (random 43 characters) is UNAUTHORIZED', async () => {
    const forged = randomBytes(32).toString('base64url');
    expect(forged).toHaveLength(43);
    expect(await codeOf(asUser(forged).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(forged).users.updateMe({ displayName: 'Mallory' }))).toBe(
      'UNAUTHORIZED',
    );
    // Optional-auth procedures refuse a bad token too, rather than treating it as anonymous.
    expect(await codeOf(asUser(forged).products.list())).toBe('UNAUTHORIZED');
  });

  test("a deactivated user's token is UNAUTHORIZED", async () => {
    const { user, token } = await register('deactivated');
    expect(await codeOf(asUser(token).auth.me())).toBe('OK');
    await db.updateTable('users').set({ is_active: false }).where('id', '=', user.id).execute();
    expect(await codeOf(asUser(token).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(token).orders.list())).toBe('UNAUTHORIZED');
  });
});
