// The Node HTTP server with timeouts, so a slow or stalled client cannot hold
// a socket (and delay shutdown) for as long as it likes.
import { createServer, type RequestListener, type Server } from 'node:http';

export interface ServerTimeouts {
  /** The whole request, headers and body, must arrive within this. Default 30 s. */
  requestTimeoutMs?: number;
  /** The headers must arrive within this (at most the request timeout). Default 10 s. */
  headersTimeoutMs?: number;
  /** An idle keep-alive socket is closed after this. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** How often Node checks the two request timeouts. Default 1 s. */
  checkIntervalMs?: number;
}

/**
 * `createServer` with request, header and keep-alive timeouts; a request that
 * does not arrive in time is answered 408 and its socket closed.
 *
 * @example
 * ```ts
 * createKeelServer(createRequestListener(deps), { requestTimeoutMs: 30_000 }).listen(3000);
 * ```
 */
export function createKeelServer(listener: RequestListener, timeouts: ServerTimeouts = {}): Server {
  const requestTimeout = timeouts.requestTimeoutMs ?? 30_000;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(timeouts.headersTimeoutMs ?? 10_000, requestTimeout),
      keepAliveTimeout: timeouts.keepAliveTimeoutMs ?? 5_000,
      connectionsCheckingInterval: timeouts.checkIntervalMs ?? 1_000,
    },
    listener,
  );
  return server;
}
