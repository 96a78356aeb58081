// The errors the domain raises. Queries and domain code throw these, never
// TRPCError; `toTRPCError` (errors.ts) maps each kind to one API code, and
// the error formatter (trpc.ts) sends a machine-readable detail beside it.

import type { DeclineReason } from './payments/payment-provider';
import type { SameType } from './same-type';

/**
 * What a frontend can act on without parsing the message:
 * - `TOKEN_REJECTED`: the request carried a bearer token the server no longer
 *   accepts (expired, revoked, unknown, or its account is gone). A frontend
 *   drops the token; it is never sent for a wrong password at login.
 * - `OUT_OF_STOCK`: an order line asks for more than is left; names the product.
 * - `PAYMENT_DECLINED`: the payment provider refused the card; says why.
 */
export type ErrorDetail =
  | { reason: 'TOKEN_REJECTED' }
  | { reason: 'OUT_OF_STOCK'; productId: string; available: number }
  | {
      reason: 'PAYMENT_DECLINED';
      // Written out (not DeclineReason) so the client's inlined types carry it.
      declineReason:
        | 'card_declined'
        | 'insufficient_funds'
        | 'expired_card'
        | 'incorrect_cvc'
        | 'card_not_supported';
    };

const declineReasonsMatch: SameType<
  DeclineReason,
  Extract<ErrorDetail, { reason: 'PAYMENT_DECLINED' }>['declineReason']
> = true;
void declineReasonsMatch;

/** The API code each kind of domain error becomes. */
export type DomainErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYMENT_REQUIRED'
  | 'TOO_MANY_REQUESTS';

/** A refusal the domain decided on: never a bug, never a 500. */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  readonly detail: ErrorDetail | null = null;
}

/** The thing asked for does not exist (or is not the caller's to see). */
export class NotFound extends DomainError {
  readonly code = 'NOT_FOUND';
  override name = 'NotFound';
}

/** The request contradicts the current state (a reused key, a stale edit). */
export class Conflict extends DomainError {
  readonly code = 'CONFLICT';
  override name = 'Conflict';
}

/** An order line asks for more than is left. */
export class OutOfStock extends Conflict {
  override name = 'OutOfStock';
  override readonly detail: ErrorDetail;
  constructor(
    product: { id: string; name: string; sku: string },
    available: number,
    wanted: number,
  ) {
    super(
      `not enough stock for "${product.name}" (${product.sku}): ${available} left, ${wanted} requested`,
    );
    this.detail = { reason: 'OUT_OF_STOCK', productId: product.id, available };
  }
}

/** Input that passed validation but makes no sense in the domain (a forbidden move, a foreign cursor). */
export class InvalidRequest extends DomainError {
  readonly code = 'BAD_REQUEST';
  override name = 'InvalidRequest';
}

/** A limit that protects the shop (failed sign-ins, open orders) has been reached. */
export class TooManyRequests extends DomainError {
  readonly code = 'TOO_MANY_REQUESTS';
  override name = 'TooManyRequests';
}

/** The payment provider refused the card; nothing was charged and the order stays unpaid. */
export class PaymentDeclined extends DomainError {
  readonly code = 'PAYMENT_REQUIRED';
  override name = 'PaymentDeclined';
  override readonly detail: ErrorDetail;
  constructor(declineReason: DeclineReason) {
    super(`the payment was declined (${declineReason.replaceAll('_', ' ')}); try another card`);
    this.detail = { reason: 'PAYMENT_DECLINED', declineReason };
  }
}

/** A bearer token the server no longer accepts. */
export class TokenRejected extends DomainError {
  readonly code = 'UNAUTHORIZED';
  override name = 'TokenRejected';
  override readonly detail: ErrorDetail = { reason: 'TOKEN_REJECTED' };
  constructor() {
    super('the bearer token is invalid or expired; sign in again');
  }
}

/** The detail of an error's cause, or null. */
export function errorDetail(cause: unknown): ErrorDetail | null {
  return cause instanceof DomainError ? cause.detail : null;
}
