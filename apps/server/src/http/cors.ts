import type { NextFunction, Request, Response } from 'express';

/**
 * CORS from an allowlist: an allowed origin gets the CORS headers (and its
 * preflight a 204); any other origin gets none, so browsers refuse it.
 */
export function corsAllowlist(origins: readonly string[]) {
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.header('origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader(
          'Access-Control-Allow-Headers',
          'authorization, content-type, x-request-id, trpc-accept',
        );
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
