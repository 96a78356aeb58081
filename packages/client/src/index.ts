import type { AppRouter, ErrorDetail } from '@keel/api';
import {
  createTRPCClient,
  httpBatchLink,
  type Operation,
  TRPCClientError,
  type TRPCLink,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';

// The published build replaces this import with the router's type inlined
// (see build.mjs): a frontend's compiler never reads Keel's server code.
export type { AppRouter } from '@keel/api';

/**
 * Every procedure's input type, by path.
 *
 * @example
 * ```ts
 * import type { RouterInputs } from '@keel/client';
 * const input: RouterInputs['products']['list'] = { limit: 50, sort: 'price_asc' };
 * ```
 */
export type RouterInputs = inferRouterInputs<AppRouter>;

/**
 * Every procedure's output type, by path.
 *
 * @example
 * ```ts
 * import type { RouterOutputs } from '@keel/client';
 * type Product = RouterOutputs['products']['byId'];
 * ```
 */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Options for `createKeelClient`. */
export interface KeelClientOptions {
  /** The server's tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** A fixed bearer token (from `auth.login` or `auth.register`). */
  token?: string;
  /** Or a function returning the current token, read before every request. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** Most calls per batched request; keep it at or below the server's MAX_BATCH_SIZE. */
  maxBatchSize?: number;
  /**
   * Called when the server rejects the token itself (expired, revoked, unknown:
   * the error's detail is `TOKEN_REJECTED`), never for a wrong password at
   * login. It receives the token the call carried: clear the stored token
   * if it is still that one (a slow call may answer after a new sign-in).
   * The call is then sent once more with whatever `getToken` returns, so
   * public procedures (the catalogue) keep working as anonymous and private
   * ones fail with a plain UNAUTHORIZED. A mutation is sent again only as
   * anonymous, never with a token that appeared since.
   */
  onUnauthorized?: (rejectedToken: string | null) => void | Promise<void>;
}

/** The typed client `createKeelClient` returns. */
export type KeelClient = ReturnType<typeof createTRPCClient<AppRouter>>;

/**
 * A typed client for Keel's API: calls made in the same tick travel as one
 * batched HTTP request; `Date` values survive the wire (superjson).
 *
 * @example
 * ```ts
 * import { createKeelClient } from '@keel/client';
 * const keel = createKeelClient({ url: 'http://127.0.0.1:3000/trpc' });
 * const { token } = await keel.auth.login.mutate({ email: 'ann@keel.dev', password: 'keel-customer-password' });
 * const signedIn = createKeelClient({ url: 'http://127.0.0.1:3000/trpc', token });
 * const page = await signedIn.products.list.query({ limit: 20 });
 * ```
 */
export function createKeelClient(options: KeelClientOptions): KeelClient {
  const readToken = async () =>
    (options.getToken ? await options.getToken() : options.token) ?? null;
  return createTRPCClient<AppRouter>({
    links: [
      ...(options.onUnauthorized
        ? [retryWithoutRejectedToken(options.onUnauthorized, readToken)]
        : []),
      httpBatchLink({
        url: options.url,
        transformer: superjson,
        maxItems: options.maxBatchSize ?? 20,
        async headers() {
          const token = await readToken();
          return { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
        },
        fetch: keepWriteMarker(options.fetch ?? ((input, init) => fetch(input, init))),
      }),
    ],
  });
}

// The read-your-writes marker a server with a read replica sets after a
// signed-in caller's write (`keel_wrote_at`, see docs/operations.md).
const writeMarker = /^keel_wrote_at=(\d{1,15});.*\bMax-Age=(\d{1,6})/i;

/**
 * Keeps the server's read-your-writes cookie and sends it back until it
 * expires, so a client that has just placed an order reads the catalogue
 * from the primary and sees its own change. A browser keeps cookies itself
 * and hides `Set-Cookie` from scripts, so there this does nothing; Node's
 * fetch keeps no cookies, so there this is what carries it.
 */
function keepWriteMarker(send: typeof fetch): typeof fetch {
  let marker: { value: string; expires: number } | undefined;
  return async (input, init) => {
    let request = init;
    if (marker && marker.expires > Date.now()) {
      const headers = new Headers(init?.headers);
      headers.append('cookie', `keel_wrote_at=${marker.value}`);
      request = { ...init, headers };
    }
    const response = await send(input, request);
    for (const cookie of response.headers.getSetCookie?.() ?? []) {
      const match = writeMarker.exec(cookie);
      if (match?.[1] && match[2]) {
        marker = { value: match[1], expires: Date.now() + Number(match[2]) * 1_000 };
      }
    }
    return response;
  };
}

/**
 * A link that, when the server rejects the token, tells the frontend and sends
 * the operation once more (the token is read again for it). The rejected call
 * never ran (authentication comes before any procedure), so even a mutation is
 * safe to send again.
 */
function retryWithoutRejectedToken(
  onUnauthorized: (rejectedToken: string | null) => void | Promise<void>,
  readToken: () => Promise<string | null>,
): TRPCLink<AppRouter> {
  return () =>
    ({ next, op }) =>
      observable((observer) => {
        let unsubscribed = false;
        let current: { unsubscribe(): void } | undefined;
        const attempt = (operation: Operation, sentWith: string | null, retried: boolean) => {
          current = next(operation).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              if (retried || keelErrorDetail(error)?.reason !== 'TOKEN_REJECTED') {
                observer.error(error);
                return;
              }
              // The token this call carried, which may no longer be the stored
              // one (a slow call answered after the user signed in again).
              Promise.resolve(onUnauthorized(sentWith))
                .then(readToken)
                .then(
                  (now) => {
                    if (unsubscribed) return;
                    // A mutation goes again only as anonymous: never on behalf
                    // of someone who signed in since.
                    if (now === sentWith || (op.type === 'mutation' && now !== null)) {
                      observer.error(error);
                      return;
                    }
                    attempt(operation, now, true);
                  },
                  (hookError: unknown) => observer.error(TRPCClientError.from(hookError as Error)),
                );
            },
          });
        };
        readToken().then(
          (token) => {
            if (!unsubscribed) attempt(op, token, false);
          },
          (error: unknown) => observer.error(TRPCClientError.from(error as Error)),
        );
        return () => {
          unsubscribed = true;
          current?.unsubscribe();
        };
      });
}

/** Why an API error happened, where the server says more than the code. */
export type KeelErrorDetail = ErrorDetail;

/**
 * The machine-readable detail of an API error, or null: `TOKEN_REJECTED`
 * (drop the stored token) or `OUT_OF_STOCK` (which product, how many are left).
 *
 * @example
 * ```ts
 * import { keelErrorDetail } from '@keel/client';
 * const detail = keelErrorDetail(error);
 * if (detail?.reason === 'OUT_OF_STOCK') markCartLine(detail.productId, detail.available);
 * ```
 */
export function keelErrorDetail(error: unknown): KeelErrorDetail | null {
  if (!(error instanceof TRPCClientError)) return null;
  const detail = (error.data as { detail?: unknown } | undefined)?.detail;
  if (typeof detail !== 'object' || detail === null || !('reason' in detail)) return null;
  return detail as KeelErrorDetail;
}

/** The error codes Keel's API answers with (see the README's error table). */
export type KeelErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'TIMEOUT'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/**
 * The API error code of a caught error, or null when it is not an API error
 * (a network failure, say).
 *
 * @example
 * ```ts
 * import { keelErrorCode } from '@keel/client';
 * try { await keel.orders.place.mutate(input); }
 * catch (error) { if (keelErrorCode(error) === 'CONFLICT') showOutOfStock(); }
 * ```
 */
export function keelErrorCode(error: unknown): KeelErrorCode | null {
  if (!(error instanceof TRPCClientError)) return null;
  const code = (error.data as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? (code as KeelErrorCode) : null;
}

/**
 * The per-field messages of a BAD_REQUEST caused by invalid input, or null.
 *
 * @example
 * ```ts
 * import { keelFieldErrors } from '@keel/client';
 * const fields = keelFieldErrors(error); // { password: ['must be at least 12 characters'] }
 * ```
 */
export function keelFieldErrors(error: unknown): Record<string, string[] | undefined> | null {
  if (!(error instanceof TRPCClientError)) return null;
  const zodError = (
    error.data as { zodError?: { fieldErrors?: Record<string, string[]> } | null } | undefined
  )?.zodError;
  return zodError?.fieldErrors ?? null;
}
