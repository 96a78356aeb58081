// The caller's address, computed once per request in the pipeline, for the
// rate limits: the socket's peer, or a hop of X-Forwarded-For that a trusted
// proxy wrote. Never "trust everything": any client can write that header.
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** `false` (no proxy), a hop count, or the proxies' addresses and subnets. */
export type TrustProxy = false | number | string[];

/**
 * A function returning the client address of a request under `trust`, with
 * the semantics of Express's `trust proxy` (proxy-addr, as Express uses).
 *
 * @example
 * ```ts
 * const addressOf = clientAddressOf(1); // one proxy in front
 * addressOf(req); // the address that proxy saw
 * ```
 */
export function clientAddressOf(trust: TrustProxy): (req: IncomingMessage) => string | null {
  // No proxy trusted: the peer is the answer, without parsing X-Forwarded-For
  // on every request.
  if (trust === false) return (req) => req.socket.remoteAddress ?? null;
  const trusted =
    typeof trust === 'number'
      ? (_address: string, hop: number) => hop < trust
      : proxyaddr.compile(trust);
  return (req) => {
    if (!req.socket.remoteAddress) return null;
    return proxyaddr(req, trusted);
  };
}
