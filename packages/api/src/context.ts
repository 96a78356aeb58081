import type { DB } from '@keel/db';
import type { Kysely } from 'kysely';
import { addressKey } from './address-key';
import type { AttemptLimit } from './attempt-limit';
import { type Bulkhead, unlimited } from './bulkhead';
import { type LoginThrottle, noLoginThrottle } from './login-throttle';
import type { PaymentProvider } from './payments/payment-provider';
import { createTestPaymentProvider } from './payments/test-provider';
import type { ReadReplica } from './read-replica';

/** Settings procedures need; the server fills them from its config. */
export interface ApiSettings {
  /** How long a session lives after login. */
  sessionTtlMs: number;
  /**
   * Unpaid (`pending`) orders one customer may hold at once, so nobody can
   * take a shop's whole stock with orders they never pay. Loads and
   * benchmarks raise it, as they raise the sign-in rate limit.
   */
  maxPendingOrders: number;
  /**
   * Text searches one HTTP request may carry (a batch shares one context):
   * each search scans the trigram index, so a batch of them is a cheap way
   * to make the database work hard.
   */
  maxSearchesPerRequest: number;
  /** How long a read refused by the per-address limit waits before its answer. */
  readRefusalDelayMs: number;
  /** What one text search costs against the per-address read limit (a plain read costs 1). */
  searchReadCost: number;
}

export const defaultApiSettings: ApiSettings = {
  sessionTtlMs: 7 * 24 * 3600 * 1000,
  maxPendingOrders: 5,
  maxSearchesPerRequest: 4,
  readRefusalDelayMs: 1_000,
  searchReadCost: 10,
};

/** What every procedure can reach. Tests build it directly, without HTTP. */
export interface Context {
  /** The primary: every write, and every read that must see the newest data. */
  db: Kysely<DB>;
  /** A streaming replica for catalogue reads, when the server has one; see `readCatalogue`. */
  readReplica: ReadReplica | undefined;
  /**
   * The caller wrote within the read-your-writes window (the server reads
   * the request's marker): its catalogue reads go to the primary.
   */
  wroteRecently: boolean;
  /** Called after each successful mutation by a signed-in caller; the server sets the marker. */
  markWrite: () => void;
  /** The bearer token of the request, if any; the signed-in procedures resolve it. */
  token: string | null;
  settings: ApiSettings;
  /** The caller's network address, when known. */
  clientAddress: string | null;
  /** What the per-address limits count this caller against: see `addressKey`. */
  limitKey: string;
  /** Resolves false when `key` has used up its attempts (login/register rate limit). */
  allowAttempt: AttemptLimit;
  /** Failed sign-ins per account, whatever the address. */
  loginThrottle: LoginThrottle;
  /** Charges `cost` reads (default 1) to this address; false when its reads for the minute are used up. */
  allowRead: (address: string, cost?: number) => boolean;
  /** How many text searches run at once in this process (a share of the pool). */
  searches: Bulkhead;
  /** What this one HTTP request (a whole batch) has spent; see `maxSearchesPerRequest`. */
  spent: { searches: number };
  /** Wraps every procedure call, when the server measures or traces them; see `CallWrapper`. */
  aroundCall: CallWrapper | undefined;
  /** Where `orders.pay` charges cards (`PAYMENT_PROVIDER`). */
  payments: PaymentProvider;
}

/**
 * Runs one procedure call (`run`) and returns its result; `outcome` reads
 * the call's result code from it (`OK`, or a tRPC error code such as
 * `NOT_FOUND`). The server's metrics time calls with it and its tracing puts
 * each in a span. Absent, a call costs nothing extra.
 */
export type CallWrapper = <R>(
  call: { path: string; type: 'query' | 'mutation' | 'subscription' },
  run: () => Promise<R>,
  outcome: (result: R) => string,
) => Promise<R>;

const testPayments = createTestPaymentProvider();

/**
 * The pure inner context: everything a procedure needs, nothing from HTTP.
 *
 * @example
 * ```ts
 * const caller = createCaller(createInnerContext({ db, token }));
 * await caller.auth.me();
 * ```
 */
export function createInnerContext(deps: {
  db: Kysely<DB>;
  readReplica?: ReadReplica;
  wroteRecently?: boolean;
  markWrite?: () => void;
  token?: string | null;
  settings?: Partial<ApiSettings>;
  clientAddress?: string | null;
  allowAttempt?: AttemptLimit;
  loginThrottle?: LoginThrottle;
  allowRead?: (address: string, cost?: number) => boolean;
  searches?: Bulkhead;
  aroundCall?: CallWrapper;
  payments?: PaymentProvider;
}): Context {
  return {
    db: deps.db,
    readReplica: deps.readReplica,
    wroteRecently: deps.wroteRecently ?? false,
    markWrite: deps.markWrite ?? (() => {}),
    token: deps.token ?? null,
    settings: { ...defaultApiSettings, ...deps.settings },
    clientAddress: deps.clientAddress ?? null,
    limitKey: addressKey(deps.clientAddress ?? null),
    allowAttempt: deps.allowAttempt ?? (async () => true),
    loginThrottle: deps.loginThrottle ?? noLoginThrottle,
    allowRead: deps.allowRead ?? (() => true),
    searches: deps.searches ?? unlimited,
    spent: { searches: 0 },
    aroundCall: deps.aroundCall,
    payments: deps.payments ?? testPayments,
  };
}

/**
 * Reads the token from an `Authorization: Bearer …` header value. The scheme
 * is case-insensitive (`bearer`, `BEARER`), as HTTP's authentication schemes
 * are; the token itself is compared exactly.
 */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_-]{20,200})$/.exec(header.trim());
  return match?.[1] ?? null;
}
