import { createDb } from '@keel/db';
import { createTestDatabase } from '@keel/platform/testing';
import { TRPCError } from '@trpc/server';
import { sql } from 'kysely';
import { afterAll, describe, expect, test } from 'vitest';
import { createInnerContext } from '../src/context';
import { toTRPCError } from '../src/errors';
import { createCaller } from '../src/index';
import { isRetryable } from '../src/retry';

const testDb = await createTestDatabase();
afterAll(() => testDb.destroy());

const rawText = 'raw SQL text select * from secret where password = $1';

/** An error shaped like node-postgres's DatabaseError. */
function pgError(fields: {
  code: string;
  constraint?: string;
  column?: string;
  table?: string;
  detail?: string;
}): Error {
  // node-postgres' DatabaseError always carries the server's severity.
  return Object.assign(new Error(rawText), { severity: 'ERROR' }, fields);
}

/** Maps the error and checks the raw message never reaches the client. */
function mapped(error: unknown): TRPCError {
  const result = toTRPCError(error);
  expect(result).toBeInstanceOf(TRPCError);
  expect(result.message).not.toContain('select');
  expect(result.message).not.toContain('secret');
  expect(result.message).not.toContain('$1');
  return result;
}

describe('toTRPCError with synthetic errors', () => {
  test('23505 on a known constraint is CONFLICT with its plain-words message', () => {
    const error = mapped(pgError({ code: '23505', constraint: 'users_email_key' }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('email is already registered');
    expect(mapped(pgError({ code: '23505', constraint: 'products_sku_key' })).message).toBe(
      'sku is already in use by another product',
    );
  });

  test('23505 on an unknown constraint is CONFLICT with a generic message, not the constraint name', () => {
    const error = mapped(pgError({ code: '23505', constraint: 'secret_internal_key' }));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('a row with the same unique value already exists');
    expect(mapped(pgError({ code: '23505' })).code).toBe('CONFLICT');
  });

  test('23503 for an insert that references a missing row is NOT_FOUND', () => {
    const known = mapped(
      pgError({
        code: '23503',
        constraint: 'order_items_product_id_fkey',
        detail: 'Key (product_id)=(0199…) is not present in table "products".',
      }),
    );
    expect(known.code).toBe('NOT_FOUND');
    expect(known.message).toBe('the product does not exist');
    const unknown = mapped(pgError({ code: '23503', constraint: 'mystery_fkey' }));
    expect(unknown.code).toBe('NOT_FOUND');
    expect(unknown.message).toBe('a referenced row does not exist');
  });

  test('23503 for a row that is still referenced is CONFLICT', () => {
    const error = mapped(
      pgError({
        code: '23503',
        constraint: 'order_items_product_id_fkey',
        detail:
          'Key (id)=(0199a1b2-0000-7000-8000-000000000000) is still referenced from table "orders".',
      }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(error.message).not.toContain('0199a1b2');
  });

  test('23001 (restrict violation) is CONFLICT', () => {
    expect(mapped(pgError({ code: '23001', constraint: 'orders_user_id_fkey' })).code).toBe(
      'CONFLICT',
    );
  });

  test("23514 is BAD_REQUEST with the constraint's plain-words message", () => {
    const price = mapped(pgError({ code: '23514', constraint: 'products_price_cents_check' }));
    expect(price.code).toBe('BAD_REQUEST');
    expect(price.message).toContain('priceCents');
    const stock = mapped(pgError({ code: '23514', constraint: 'products_stock_quantity_check' }));
    expect(stock.code).toBe('BAD_REQUEST');
    expect(stock.message).toContain('stock');
    const unknown = mapped(pgError({ code: '23514', constraint: 'some_check' }));
    expect(unknown.code).toBe('BAD_REQUEST');
  });

  test('23502 is BAD_REQUEST naming the column', () => {
    const error = mapped(pgError({ code: '23502', column: 'name', table: 'products' }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('name');
    expect(mapped(pgError({ code: '23502' })).code).toBe('BAD_REQUEST');
  });

  test('22P02 and other class 22 errors are BAD_REQUEST', () => {
    for (const code of ['22P02', '22003', '22007', '22008', '22001']) {
      expect(mapped(pgError({ code })).code).toBe('BAD_REQUEST');
    }
  });

  test('40001 (serialization failure) and 40P01 (deadlock) are CONFLICT', () => {
    expect(mapped(pgError({ code: '40001' })).code).toBe('CONFLICT');
    expect(mapped(pgError({ code: '40P01' })).code).toBe('CONFLICT');
  });

  test('57014 (statement timeout) and 55P03 (lock timeout) are TIMEOUT', () => {
    expect(mapped(pgError({ code: '57014' })).code).toBe('TIMEOUT');
    expect(mapped(pgError({ code: '55P03' })).code).toBe('TIMEOUT');
  });

  test('lost connections and an overloaded server are SERVICE_UNAVAILABLE', () => {
    for (const code of ['08006', '08003', '08001', '57P01', '57P02', '57P03', '53300']) {
      expect(mapped(pgError({ code })).code).toBe('SERVICE_UNAVAILABLE');
    }
  });

  test("a node socket error with code 'ECONNREFUSED' is SERVICE_UNAVAILABLE", () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(mapped(error).code).toBe('SERVICE_UNAVAILABLE');
    expect(mapped(error).message).not.toContain('127.0.0.1');
  });

  test('the other node socket error codes of a lost connection are SERVICE_UNAVAILABLE', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']) {
      const error = Object.assign(new Error(`read ${code}`), { code });
      expect({ code, mapped: mapped(error).code }).toEqual({
        code,
        mapped: 'SERVICE_UNAVAILABLE',
      });
    }
  });

  test("a node socket error with code 'EPIPE' is SERVICE_UNAVAILABLE, not taken for a SQLSTATE", () => {
    // 'EPIPE' is five upper-case letters, the same form as a SQLSTATE.
    const error = Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });
    expect(mapped(error).code).toBe('SERVICE_UNAVAILABLE');
  });

  test("pg's 'Connection terminated unexpectedly' is SERVICE_UNAVAILABLE", () => {
    expect(mapped(new Error('Connection terminated unexpectedly')).code).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(mapped(new Error('timeout exceeded when trying to connect')).code).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(mapped(new Error('Cannot use a pool after calling end on the pool')).code).toBe(
      'SERVICE_UNAVAILABLE',
    );
  });

  test("an unknown SQLSTATE is INTERNAL_SERVER_ERROR with the message 'internal error'", () => {
    const error = mapped(pgError({ code: 'XX000' }));
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe('internal error');
    expect(mapped(pgError({ code: '42P01' })).message).toBe('internal error');
  });

  test("a plain Error is INTERNAL_SERVER_ERROR with the message 'internal error'", () => {
    const error = mapped(new Error(rawText));
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe('internal error');
  });

  test("values that are not Errors are INTERNAL_SERVER_ERROR with the message 'internal error'", () => {
    for (const thrown of [rawText, { code: '23505', message: rawText }, null, undefined, 42]) {
      const error = mapped(thrown);
      expect(error.code).toBe('INTERNAL_SERVER_ERROR');
      expect(error.message).toBe('internal error');
    }
  });

  test('a TRPCError passes through unchanged', () => {
    const original = new TRPCError({ code: 'NOT_FOUND', message: 'product not found' });
    expect(toTRPCError(original)).toBe(original);
  });

  test('the original error is kept as cause, for the server log', () => {
    for (const original of [
      pgError({ code: '23505', constraint: 'users_email_key' }),
      pgError({ code: '57014' }),
      pgError({ code: 'XX000' }),
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      new Error(rawText),
    ]) {
      expect(toTRPCError(original).cause).toBe(original);
    }
  });

  test('isRetryable is true only for serialization failures and deadlocks', () => {
    expect(isRetryable(pgError({ code: '40001' }))).toBe(true);
    expect(isRetryable(pgError({ code: '40P01' }))).toBe(true);
    expect(isRetryable(pgError({ code: '23505' }))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});

describe('real database errors through the API', () => {
  test('a real statement timeout (57014) maps to TIMEOUT', async () => {
    const impatient = createDb({ connectionString: testDb.urls.app, statementTimeoutMs: 50 });
    try {
      const error = await sql`select pg_sleep(1)`.execute(impatient).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: '57014' });
      const result = mapped(error);
      expect(result.code).toBe('TIMEOUT');
      expect(result.cause).toBe(error);
    } finally {
      await impatient.destroy();
    }
  });

  test('products.list that runs into the statement timeout is TIMEOUT for the caller', async () => {
    const impatient = createDb({
      connectionString: testDb.urls.app,
      statementTimeoutMs: 100,
      lockTimeoutMs: 10_000,
    });
    const caller = createCaller(createInnerContext({ db: impatient }));
    try {
      // Hold a lock that blocks readers, so the list waits until its statement timeout fires.
      await testDb.db.transaction().execute(async (trx) => {
        await sql`lock table products in access exclusive mode`.execute(trx);
        await expect(caller.products.list()).rejects.toMatchObject({
          code: 'TIMEOUT',
          message: 'the database took too long to answer',
        });
      });
      // Without the lock the same caller works.
      expect(await caller.products.list()).toEqual({ items: [], nextCursor: null });
    } finally {
      await impatient.destroy();
    }
  });

  test('products.list that runs into the lock timeout (55P03) is TIMEOUT for the caller', async () => {
    const impatient = createDb({
      connectionString: testDb.urls.app,
      statementTimeoutMs: 10_000,
      lockTimeoutMs: 100,
    });
    const caller = createCaller(createInnerContext({ db: impatient }));
    try {
      await testDb.db.transaction().execute(async (trx) => {
        await sql`lock table products in access exclusive mode`.execute(trx);
        const error = await caller.products.list().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'TIMEOUT', cause: { code: '55P03' } });
      });
    } finally {
      await impatient.destroy();
    }
  });

  test('a real unique violation reaches the caller as CONFLICT without SQL in the message', async () => {
    const anonymous = createCaller(createInnerContext({ db: testDb.db }));
    const input = { email: 'twice@example.com', password: 'a-long-password', displayName: 'T' };
    await anonymous.auth.register(input);
    const error = await anonymous.auth.register(input).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'email is already registered' });
    expect((error as TRPCError).message).not.toMatch(/insert|users_email_key|duplicate/i);
    expect((error as TRPCError).cause).toMatchObject({ code: '23505' });
  });

  test('an unreachable database is SERVICE_UNAVAILABLE for the caller', async () => {
    const url = new URL(testDb.urls.app);
    url.port = '1';
    const unreachable = createDb({ connectionString: url.toString(), connectionTimeoutMs: 2000 });
    try {
      const caller = createCaller(createInnerContext({ db: unreachable }));
      await expect(caller.products.list()).rejects.toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
      });
    } finally {
      await unreachable.destroy();
    }
  });
});
