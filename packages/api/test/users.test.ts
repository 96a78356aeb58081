import { randomUUID } from 'node:crypto';
import { createTestDatabase } from '@keel/platform/testing';
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

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (e) {
    return (e as { code?: string }).code ?? 'UNKNOWN';
  }
}

async function errorOf(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

async function register(label: string) {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const result = await anonymous.auth.register({ email, password, displayName: label });
  return { ...result, email, caller: asUser(result.token) };
}

const admin = await register('admin');
await db.updateTable('users').set({ role: 'admin' }).where('id', '=', admin.user.id).execute();

describe('users.updateMe', () => {
  test('changes displayName, trimmed, and auth.me shows it', async () => {
    const { caller, user } = await register('rename');
    const updated = await caller.users.updateMe({ displayName: '  New Name  ' });
    expect(updated).toEqual({ ...user, displayName: 'New Name' });
    expect(Object.keys(updated).sort()).toEqual(publicUserKeys);
    expect((await caller.auth.me()).displayName).toBe('New Name');
    const row = await db
      .selectFrom('users')
      .select('display_name')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.display_name).toBe('New Name');
  });

  test('an empty update is BAD_REQUEST and changes nothing', async () => {
    const { caller, user } = await register('empty');
    const error = await errorOf(caller.users.updateMe({}));
    expect((error as { code?: string }).code).toBe('BAD_REQUEST');
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(ZodError);
    expect(z.flattenError(cause as ZodError).formErrors).toEqual([
      'give displayName, password or both',
    ]);
    expect(await codeOf(caller.users.updateMe({ displayName: '   ' }))).toBe('BAD_REQUEST');
    expect(await codeOf(caller.users.updateMe({ password: 'short' }))).toBe('BAD_REQUEST');
    expect(await caller.auth.me()).toEqual(user);
  });

  test('a new password revokes the other sessions, keeps the current one, and replaces the old password', async () => {
    const { caller, user, email, token } = await register('repass');
    const other = await anonymous.auth.login({ email, password });
    const third = await anonymous.auth.login({ email, password });
    const newPassword = 'a-brand-new-password';

    const updated = await caller.users.updateMe({
      password: newPassword,
      currentPassword: password,
    });
    expect(Object.keys(updated).sort()).toEqual(publicUserKeys);

    expect((await caller.auth.me()).id).toBe(user.id);
    expect(await codeOf(asUser(other.token).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(third.token).auth.me())).toBe('UNAUTHORIZED');
    const sessions = await db
      .selectFrom('sessions')
      .select(['id', 'deleted_at'])
      .where('user_id', '=', user.id)
      .execute();
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s) => s.deleted_at === null)).toHaveLength(1);

    expect(await codeOf(anonymous.auth.login({ email, password }))).toBe('UNAUTHORIZED');
    const fresh = await anonymous.auth.login({ email, password: newPassword });
    expect(fresh.user.id).toBe(user.id);
    expect(await codeOf(asUser(token).auth.me())).toBe('OK');
  });

  test('a displayName-only update keeps every other session', async () => {
    const { caller, email } = await register('keep');
    const other = await anonymous.auth.login({ email, password });
    await caller.users.updateMe({ displayName: 'Kept' });
    expect((await asUser(other.token).auth.me()).displayName).toBe('Kept');
  });
});

describe('users.deleteMe', () => {
  test('soft-deletes the user, revokes every session, blocks login, and frees the email', async () => {
    const { caller, user, email, token } = await register('leaver');
    const other = await anonymous.auth.login({ email, password });

    expect(await caller.users.deleteMe({ password })).toEqual({ deleted: true });

    const row = await db
      .selectFrom('users')
      .select('deleted_at')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.deleted_at).toBeInstanceOf(Date);
    const sessions = await db
      .selectFrom('sessions')
      .select('deleted_at')
      .where('user_id', '=', user.id)
      .execute();
    expect(sessions).toHaveLength(2);
    for (const session of sessions) expect(session.deleted_at).toBeInstanceOf(Date);

    expect(await codeOf(asUser(token).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(other.token).auth.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(asUser(token).users.deleteMe({ password }))).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.auth.login({ email, password }))).toBe('UNAUTHORIZED');

    const again = await anonymous.auth.register({ email, password, displayName: 'Returner' });
    expect(again.user.id).not.toBe(user.id);
    expect(again.user.email).toBe(email);
    const loggedIn = await anonymous.auth.login({ email, password });
    expect(loggedIn.user.id).toBe(again.user.id);
  });
});

describe('users.list', () => {
  test('an admin pages through every live user exactly once, newest first, with limit 2', async () => {
    for (let i = 0; i < 3; i += 1) await register(`listed${i}`);
    const gone = await register('gone');
    await gone.caller.users.deleteMe({ password });

    const expected = await db
      .selectFrom('users')
      .select('id')
      .where('deleted_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    expect(expected.length).toBeGreaterThanOrEqual(5);

    const seen: { id: string; createdAt: Date }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin.caller.users.list({ limit: 2, cursor });
      pages += 1;
      expect(page.items.length).toBeLessThanOrEqual(2);
      expect(page.items.length).toBeGreaterThan(0);
      for (const item of page.items) {
        expect(Object.keys(item).sort()).toEqual(publicUserKeys);
        expect(JSON.stringify(item)).not.toMatch(/scrypt|password/i);
        seen.push(item);
      }
      cursor = page.nextCursor ?? undefined;
      expect(pages).toBeLessThanOrEqual(expected.length);
    } while (cursor);

    expect(pages).toBe(Math.ceil(expected.length / 2));
    expect(seen.map((u) => u.id)).toEqual(expected.map((u) => u.id));
    expect(new Set(seen.map((u) => u.id)).size).toBe(seen.length);
    expect(seen.map((u) => u.id)).not.toContain(gone.user.id);
    for (let i = 1; i < seen.length; i += 1) {
      expect(seen[i]?.createdAt.getTime()).toBeLessThanOrEqual(
        seen[i - 1]?.createdAt.getTime() ?? 0,
      );
    }
  });

  test('a cursor from another list is BAD_REQUEST', async () => {
    const products = await admin.caller.products.create({
      sku: `U-${randomUUID().slice(0, 8).toUpperCase()}`,
      name: 'Cursor source',
      priceCents: 100,
    });
    expect(products.id).toBeTruthy();
    await admin.caller.products.create({
      sku: `U-${randomUUID().slice(0, 8).toUpperCase()}`,
      name: 'Cursor source 2',
      priceCents: 100,
    });
    const page = await anonymous.products.list({ limit: 1 });
    expect(page.nextCursor).not.toBeNull();
    expect(
      await codeOf(admin.caller.users.list({ limit: 2, cursor: page.nextCursor ?? undefined })),
    ).toBe('BAD_REQUEST');
  });
});
