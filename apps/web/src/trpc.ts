// The storefront's one API client: @keel/client's createKeelClient (the built
// package, as any frontend would install it) behind tRPC's TanStack React
// Query integration.
import { type AppRouter, createKeelClient } from '@keel/client';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { readToken, tokenRejected } from './features/auth/session';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 30_000, retry: 1, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

/**
 * Same origin: the Vite dev server proxies /trpc to the API, and the
 * production server serves this app itself.
 */
export const keel = createKeelClient({
  url: '/trpc',
  getToken: readToken,
  // The server refused the stored token (expired or revoked): forget it; the
  // client then sends the call again as anonymous.
  onUnauthorized: tokenRejected,
});
