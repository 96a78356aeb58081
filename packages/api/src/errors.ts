import { TRPCError } from '@trpc/server';
import { DomainError } from './domain-errors';

/** The fields of a node-postgres error that the mapping reads. */
interface PgError {
  code?: string;
  constraint?: string;
  column?: string;
  table?: string;
  detail?: string;
  message?: string;
}

// Plain-words messages for the constraints a client can run into.
const constraintMessages: Record<string, string> = {
  users_email_key: 'email is already registered',
  users_email_check: 'email is not a valid address',
  users_display_name_check: 'displayName must be 1–100 characters without surrounding spaces',
  users_role_check: "role must be 'customer' or 'admin'",
  products_sku_key: 'sku is already in use by another product',
  products_sku_check:
    'sku must be 3–40 characters of A–Z, 0–9 and -, starting with a letter or digit',
  products_name_check: 'name must be 1–200 characters without surrounding spaces',
  products_description_check: 'description must be at most 5000 characters',
  products_price_cents_check: 'priceCents must be between 0 and 9007199254740991',
  products_currency_check: 'currency must be three upper-case letters (ISO 4217)',
  products_stock_quantity_check: 'not enough stock: stockQuantity cannot go below 0',
  orders_user_id_idempotency_key_key: 'an order with this idempotencyKey already exists',
  orders_status_check: 'status is not an allowed order status',
  orders_total_cents_check: 'the order total is out of range',
  order_items_quantity_check: 'quantity must be between 1 and 10000',
  order_items_order_id_product_id_key: 'a product may appear only once per order',
  order_items_product_id_fkey: 'the product does not exist',
  orders_user_id_fkey: 'the user does not exist',
  payments_order_id_approved_key: 'the order is already paid',
  sessions_token_hash_key: 'session token collision; retry',
};

const connectionLost = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

function isPgError(error: unknown): error is PgError & Error {
  // Server errors carry a severity; node socket errors (EPIPE, …) do not.
  return (
    error instanceof Error &&
    'severity' in error &&
    /^[0-9A-Z]{5}$/.test((error as PgError).code ?? '')
  );
}

/**
 * The one place database errors become API errors (README, "Errors"). Raw
 * SQL, parameters and stack traces never reach the client: the original
 * error stays as `cause`, for the server log only.
 *
 * | SQLSTATE | API code |
 * |---|---|
 * | 23505 unique | CONFLICT |
 * | 23503 missing referenced row | NOT_FOUND |
 * | 23001 / 23503 row still referenced | CONFLICT |
 * | 23514 check, 23502 not null, 22xxx invalid data | BAD_REQUEST |
 * | 40001 serialization, 40P01 deadlock (after retries) | CONFLICT |
 * | 57014 statement timeout, 55P03 lock timeout | TIMEOUT |
 * | 08xxx, 28xxx, 3D000, 57P01–57P03, 53300, connection and TLS errors | SERVICE_UNAVAILABLE |
 * | a `DomainError` (NotFound, Conflict, OutOfStock, InvalidRequest, TokenRejected) | its own code |
 * | anything else | INTERNAL_SERVER_ERROR |
 */
export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof DomainError) {
    return new TRPCError({ code: error.code, message: error.message, cause: error });
  }
  if (isConnectionFailure(error)) {
    return new TRPCError({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the database is unavailable; retry shortly',
      cause: error,
    });
  }
  if (isPgError(error)) return fromSqlState(error);
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: error });
}

function fromSqlState(error: PgError & Error): TRPCError {
  const code = error.code ?? '';
  const named = error.constraint ? constraintMessages[error.constraint] : undefined;
  const fail = (trpcCode: TRPCError['code'], message: string) =>
    new TRPCError({ code: trpcCode, message, cause: error });
  if (code === '23505')
    return fail('CONFLICT', named ?? 'a row with the same unique value already exists');
  if (code === '23001' || (code === '23503' && /still referenced/.test(error.detail ?? ''))) {
    return fail('CONFLICT', 'the row is still referenced by other rows');
  }
  if (code === '23503') return fail('NOT_FOUND', named ?? 'a referenced row does not exist');
  if (code === '23514')
    return fail('BAD_REQUEST', named ?? `the value breaks rule ${error.constraint ?? 'check'}`);
  if (code === '23502')
    return fail('BAD_REQUEST', `${fieldName(error.column) ?? 'a required field'} is required`);
  if (code.startsWith('22'))
    return fail('BAD_REQUEST', 'a value has the wrong format or is out of range');
  if (code === '40001' || code === '40P01') {
    return fail('CONFLICT', 'the request collided with a concurrent change; retry it');
  }
  if (code === '57014' || code === '55P03')
    return fail('TIMEOUT', 'the database took too long to answer');
  // 28xxx (refused at sign-in: the password, or pg_hba refusing a connection
  // without TLS) and 3D000 (no such database) happen only while connecting:
  // the service cannot reach its database, whatever the request was.
  if (
    code.startsWith('08') ||
    code.startsWith('28') ||
    ['3D000', '57P01', '57P02', '57P03', '53300', '53400'].includes(code)
  ) {
    return fail('SERVICE_UNAVAILABLE', 'the database is unavailable; retry shortly');
  }
  return fail('INTERNAL_SERVER_ERROR', 'internal error');
}

// Node's TLS failures while connecting: an untrusted or mismatched server
// certificate, or a handshake that failed (a wrong sslmode or sslrootcert).
const tlsFailure =
  /^(ERR_TLS_|ERR_SSL_|EPROTO$|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$)/;

/**
 * Whether `error` says the server could not be reached or would not serve
 * (the errors `toTRPCError` maps to SERVICE_UNAVAILABLE): the network, TLS,
 * sign-in, a shutting-down or starting server, too many connections.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return toTRPCError(error).code === 'SERVICE_UNAVAILABLE';
}

function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && (connectionLost.has(code) || tlsFailure.test(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Cannot use a pool after calling end|The server does not support SSL connections/i.test(
    error.message,
  );
}

/** The API's name for a column: `price_cents` → `priceCents`. */
function fieldName(column: string | undefined): string | undefined {
  return column?.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
