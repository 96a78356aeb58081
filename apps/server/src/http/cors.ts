import { type IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';

/**
 * CORS for the allowlisted origins through the `cors` package (measured at
 * the same cost as the hand-written version it replaced: bench:middleware
 * at commit f577285, 1.00× throughput and CPU per request). Returns a
 * function that adds the headers and answers preflights, returning true
 * when it has answered. Other origins (and requests without one) get no
 * CORS headers but `Vary: Origin`, and their `OPTIONS` go on to the routes,
 * so browsers refuse them; with no allowlist nothing is added at all.
 */
export function createCors(
  origins: readonly string[],
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = [...new Set(origins.map((o) => new URL(o).origin))];
  if (allowed.length === 0) return () => false;
  const middleware = cors({
    origin: allowed,
    credentials: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'trpc-accept'],
    maxAge: 600,
  });
  const isAllowed = new Set(allowed);
  return (req, res) => {
    // With an allowlist every answer depends on the Origin header, allowed
    // or not: a shared cache must not give one origin's answer to another.
    keepVaryOrigin(res);
    const origin = req.headers.origin;
    if (!origin || !isAllowed.has(origin)) {
      res.setHeader('Vary', 'Origin');
      return false;
    }
    let passed = false;
    middleware(req, res, () => {
      passed = true;
    });
    // A preflight is answered (204) without calling next; with an array of
    // origins cors decides synchronously.
    return !passed;
  };
}

const plainSetHeader = ServerResponse.prototype.setHeader;

/**
 * `setHeader` for a response whose `Vary` must keep `Origin`: a later `Vary`
 * is merged into the one already set, not written over it. One shared
 * function that reads the response from `this`, so a request allocates no
 * closure or bound copy for it.
 */
function mergingVary(
  this: ServerResponse,
  name: string,
  value: number | string | readonly string[],
): ServerResponse {
  if (name.length !== 4 || name.toLowerCase() !== 'vary')
    return plainSetHeader.call(this, name, value);
  const fields = new Map<string, string>();
  for (const part of [String(this.getHeader('vary') ?? ''), String(value)].join(',').split(',')) {
    const field = part.trim();
    if (field) fields.set(field.toLowerCase(), field);
  }
  return plainSetHeader.call(this, name, [...fields.values()].join(', '));
}

/**
 * tRPC (and the lane) set `Vary: trpc-accept, accept` later in the response;
 * without this a shared cache would serve one origin's answer to another.
 */
function keepVaryOrigin(res: ServerResponse): void {
  res.setHeader = mergingVary as typeof res.setHeader;
}
