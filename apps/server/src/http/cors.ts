import type { IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * tRPC (and the lane) set `Vary: trpc-accept, accept` later in the response;
 * without this a shared cache would serve one origin's answer to another.
 * Later `Vary` values are merged into the one CORS set, not written over it.
 */
function keepVaryOrigin(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  const merging = (name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() !== 'vary') return setHeader(name, value);
    const fields = new Map<string, string>();
    for (const part of [String(res.getHeader('vary') ?? ''), String(value)].join(',').split(',')) {
      const field = part.trim();
      if (field) fields.set(field.toLowerCase(), field);
    }
    return setHeader(name, [...fields.values()].join(', '));
  };
  res.setHeader = merging as typeof res.setHeader;
}
