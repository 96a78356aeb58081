// The public surface of @keel/api.

export { type AttemptLimit, createAttemptLimit } from './attempt-limit';
export { type Bulkhead, createBulkhead } from './bulkhead';
export {
  type ApiSettings,
  bearerToken,
  type CallWrapper,
  type Context,
  createInnerContext,
  defaultApiSettings,
} from './context';
export {
  Conflict,
  DomainError,
  type ErrorDetail,
  InvalidRequest,
  NotFound,
  OutOfStock,
  PaymentDeclined,
  TokenRejected,
  TooManyRequests,
} from './domain-errors';
export { isDatabaseUnavailable, toTRPCError } from './errors';
export {
  createMemoryLimitStore,
  type LimitStore,
  type ThrottleRule,
  throttleDelayMs,
} from './limit-store';
export {
  createLoginThrottle,
  type LoginThrottle,
  type LoginThrottleOptions,
  noLoginThrottle,
} from './login-throttle';
export { decodeCursor, encodeCursor, type KeysetSort } from './pagination';
export type {
  Card,
  ChargeRequest,
  ChargeResult,
  DeclineReason,
  PaymentProvider,
} from './payments/payment-provider';
export { createTestPaymentProvider, testCards } from './payments/test-provider';
export {
  createPostgresLimitStore,
  type PostgresLimitStoreOptions,
} from './postgres-limit-store';
export type { Order, OrderItem } from './queries/orders';
export { type Product, productSorts } from './queries/products';
export type { PublicUser } from './queries/users';
export { type ReadReplica, readCatalogue } from './read-replica';
export { type AppRouter, appRouter } from './root';
export { createCallerFactory } from './trpc';

import { appRouter } from './root';
import { createCallerFactory } from './trpc';

/** Calls procedures directly, without HTTP (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
