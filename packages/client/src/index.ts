import type { AppRouter } from '@keel/api';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';

export type { AppRouter } from '@keel/api';

/** Options for `createKeelClient`. */
export interface KeelClientOptions {
  /** The server's tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

/**
 * A typed client for Keel's API.
 *
 * @example
 * ```ts
 * import { createKeelClient } from '@keel/client';
 * const keel = createKeelClient({ url: 'http://127.0.0.1:3000/trpc' });
 * console.log(await keel.health.check.query());
 * ```
 */
export function createKeelClient(options: KeelClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: options.url,
        transformer: superjson,
        headers: () => options.headers ?? {},
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    ],
  });
}
