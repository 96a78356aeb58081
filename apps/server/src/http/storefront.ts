// Serves the built storefront (apps/web/dist) from the API's own origin, so
// production needs no CORS: hashed assets cached for a year, every other GET
// that is not the API answered with index.html for the client-side router.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';

/** Paths the storefront never answers: the APIs, their reference and the health checks. */
const apiPaths = /^\/(?:trpc|api|docs|openapi\.json|healthz|readyz)(?:\/|$)/;

/**
 * The storefront's routes, or null when `dir` holds no build (`pnpm build`
 * makes one); the server then serves the API alone.
 */
export function storefront(dir: string): Router | null {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) return null;
  const index = readFileSync(indexFile);
  const router = express.Router();
  // Vite names assets by content hash: a changed file is a new URL.
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
  );
  // A missing asset is a 404, never the page (a stale chunk name must fail loudly).
  router.use('/assets', (_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  router.use(
    express.static(dir, {
      index: false,
      maxAge: '1h',
      // The page itself (also as /index.html) is revalidated every time.
      setHeaders: (res, path) => {
        if (path.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
      },
    }),
  );
  router.get(/.*/, (req, res, next) => {
    if (apiPaths.test(req.path)) {
      next();
      return;
    }
    // The page itself is revalidated every time, so a deploy is seen at once.
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(index);
  });
  return router;
}
