import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Adds the CORS headers for an allowlisted origin; returns true when the
 * request was a preflight that has been answered. Other origins get no CORS
 * headers, so browsers refuse them.
 */
export function applyCors(
  allowed: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  // With an allowlist, every answer depends on the Origin header, allowed or
  // not: a shared cache must not give one origin's answer to another.
  if (allowed.size > 0) {
    res.setHeader('Vary', 'Origin');
    keepVaryOrigin(res);
  }
  const origin = req.headers.origin;
  if (!origin || !allowed.has(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader(
    'Access-Control-Allow-Headers',
    'authorization, content-type, x-request-id, trpc-accept',
  );
  res.setHeader('Access-Control-Max-Age', '600');
  res.statusCode = 204;
  res.end();
  return true;
}

/** The allowlist as a set of normalised origins. */
export function corsOriginSet(origins: readonly string[]): ReadonlySet<string> {
  return new Set(origins.map((o) => new URL(o).origin));
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
