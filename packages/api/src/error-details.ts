// Machine-readable details an API error carries beside its code, so a
// frontend can act on one without parsing the message.

/**
 * - `TOKEN_REJECTED`: the request carried a bearer token the server no longer
 *   accepts (expired, revoked, unknown, or its account is gone). A frontend
 *   drops the token; it is never sent for a wrong password at login.
 * - `OUT_OF_STOCK`: an order line asks for more than is left; names the product.
 */
export type ErrorDetail =
  | { reason: 'TOKEN_REJECTED' }
  | { reason: 'OUT_OF_STOCK'; productId: string; available: number };

/** The cause of a `TRPCError` that carries an `ErrorDetail`; the error formatter sends it as `data.detail`. */
export class DetailedCause extends Error {
  constructor(
    readonly detail: ErrorDetail,
    message: string,
  ) {
    super(message);
    this.name = 'DetailedCause';
  }
}

/** The detail of an error's cause, or null. */
export function errorDetail(cause: unknown): ErrorDetail | null {
  return cause instanceof DetailedCause ? cause.detail : null;
}
